; sens_dtables: LGDT, LIDT, SGDT and SIDT in guest kernel code. SGDT and SIDT are the
; Red Pill's instructions (Robin & Irvine): unprivileged, they would show the VMM's tables
; if the VMM had its own; the guest kernel must read back exactly what it loaded.
%define GUEST "sens_dtables"
%include "flat.inc"
%include "sens.inc"

ODD_LIMIT       equ 0x0abc
ODD_BASE        equ 0xffff8000deadb000  ; canonical; never used: interrupts stay off meanwhile
UNMAPPED        equ 0x200000000         ; 8 GiB: beyond the boot identity map

absolute GUEST_DATA
buf:            resb 16
pdesc:          resb 16                 ; a pseudo-descriptor for LIDT
; RIP-relative operands need a label nasm places relative to the code: the page after it
; (never code, so stores there are not self-modifying code)
section .bss align=4096
buf2:           resb 16
section .text

start:
        call idt_init

        ; SIDT returns what idt_init's LIDT loaded
        mov qword [buf + 8], -1
        sidt [buf]
        movzx eax, word [buf]
        CHECK rax, 0xfff, 1, "SIDT limit after LIDT"
        CHECK [buf + 2], IDT_BASE, 2, "SIDT base after LIDT"
        NOT_VMM [buf + 2], 3, "SIDT base"
        movzx eax, word [buf + 10]
        CHECK rax, 0xffff, 4, "SIDT wrote more than 10 bytes"

        ; LIDT of a base and limit of the guest's choosing: SIDT gives exactly them back
        mov word [pdesc], ODD_LIMIT
        mov rax, ODD_BASE
        mov [pdesc + 2], rax
        lidt [pdesc]
        sidt [buf]
        lidt [flat_idtr]                ; the real IDT again before anything can fault
        movzx eax, word [buf]
        CHECK rax, ODD_LIMIT, 5, "SIDT limit after LIDT of the guest's own"
        mov rdx, ODD_BASE
        CHECK [buf + 2], rdx, 6, "SIDT base after LIDT of the guest's own"

        ; RIP-relative operands (the translator re-encodes them for the trampoline)
        sidt [rel buf2]
        CHECK [buf2 + 2], IDT_BASE, 7, "SIDT [rip+d] base"
        lidt [rel flat_idtr]
        sidt [buf2]
        CHECK [buf2 + 2], IDT_BASE, 8, "SIDT base after LIDT [rip+d]"

        ; SIDT onto the guest's stack
        mov rbx, rsp
        sub rsp, 16
        sidt [rsp]
        mov rcx, [rsp + 2]
        add rsp, 16
        CHECK rcx, IDT_BASE, 9, "SIDT [rsp] base"
        CHECK rsp, rbx, 10, "RSP after SIDT [rsp]"

        ; SGDT: the boot GDT, then a copy of the guest's at another base
        sgdt [buf]
        movzx eax, word [buf]
        CHECK rax, 0x3f, 11, "SGDT limit of the boot GDT"
        CHECK [buf + 2], 0x7000, 12, "SGDT base of the boot GDT"
        NOT_VMM [buf + 2], 13, "SGDT base"
        call gdt2_init                  ; LGDT
        sgdt [rel buf2]
        movzx eax, word [buf2]
        CHECK rax, GDT2_LIMIT, 14, "SGDT [rip+d] limit after LGDT"
        CHECK [buf2 + 2], GDT2, 15, "SGDT [rip+d] base after LGDT"
        ; the CPU uses the guest's new table: a descriptor only GDT2 has loads
        DESC GDT2_FREE, SEG_DESC(0, 0xfffff, 0x93, 0xc)
        mov ax, GDT2_FREE
        mov es, ax
        mov rax, es
        CHECK rax, GDT2_FREE, 16, "ES loaded from a descriptor only the guest's LGDT table has"
        mov ax, KDATA
        mov es, ax

        ; a pseudo-descriptor the guest cannot read: #PF at the LIDT (error 0: not present,
        ; read, CPL0), CR2 the guest's address, the IDTR unchanged
        mov rbx, UNMAPPED
        EXPECT 14, .r17
.f17:   lidt [rbx]
        FAIL 17, "LIDT from an unmapped address did not fault"
.r17:   CHECK [exc_rip], .f17, 18, "LIDT #PF: saved RIP"
        NOT_VMM [exc_rip], 19, "LIDT #PF: saved RIP"
        CHECK [exc_err], 0, 20, "LIDT #PF: error code"
        mov rdx, UNMAPPED
        CHECK [exc_cr2], rdx, 21, "LIDT #PF: CR2"
        sidt [buf]
        CHECK [buf + 2], IDT_BASE, 22, "SIDT base after a faulting LIDT"

        ; SGDT writing to a non-canonical address: #GP(0) at the SGDT
        mov rbx, 0x0000800000000000
        EXPECT 13, .r23
.f23:   sgdt [rbx]
        FAIL 23, "SGDT to a non-canonical address did not fault"
.r23:   CHECK [exc_rip], .f23, 24, "SGDT #GP: saved RIP"
        CHECK [exc_err], 0, 25, "SGDT #GP: error code"

        lgdt [boot_gdtr]
        sgdt [buf]
        CHECK [buf + 2], 0x7000, 26, "SGDT base after LGDT back to the boot GDT"
        CHECK [exc_count], 2, 27, "number of exceptions"
        PASS

boot_gdtr:
        dw 0x3f
        dq 0x7000
