; sens_sysseg: LLDT, LTR, SLDT and STR in guest kernel code. SLDT and STR are unprivileged
; (Robin & Irvine): the guest kernel must read the selectors it loaded, and the CPU must use
; the guest's LDT and TSS (a segment from the LDT, a stack from the TSS's IST).
%define GUEST "sens_sysseg"
%include "flat.inc"
%include "sens.inc"

LDT_SEL         equ GDT2_FREE           ; 16-byte LDT descriptor
TSS2_SEL        equ GDT2_FREE + 0x10    ; 16-byte 64-bit TSS descriptor (available until LTR)
LDT_BASE        equ SCRATCH + 0x1000
TSS2_BASE       equ SCRATCH + 0x2000
TSS2_IST1_TOP   equ 0x58000             ; the new TSS's IST1: a stack only it knows
LDT_DATA        equ 0x08 | 4            ; LDT index 1, TI = 1
IST_VEC         equ 0x40

absolute GUEST_DATA
buf:            resq 1
section .text

start:
        call idt_init
        call gdt2_init

        ; the boot TR and LDTR, in the register and memory forms
        mov rax, -1
        str rax
        CHECK rax, 0x30, 1, "STR r64: the boot TR"
        mov qword [buf], -1
        str [buf]
        CHECK [buf], 0xffffffffffff0030, 2, "STR m16: the boot TR (and only 2 bytes written)"
        mov rax, -1
        sldt rax
        CHECK rax, 0, 3, "SLDT r64: the boot LDTR (null)"

        ; LLDT of an LDT of the guest's: SLDT returns its selector, and its descriptors load
        mov qword [LDT_BASE], 0
        mov rax, SEG_DESC(0, 0xfffff, 0x93, 0xc)
        mov [LDT_BASE + 8], rax
        SYS_DESC LDT_SEL, LDT_BASE, 0x0f, 0x2
        mov ax, LDT_SEL
        lldt ax
        mov rax, -1
        sldt rax
        CHECK rax, LDT_SEL, 4, "SLDT after LLDT"
        mov qword [buf], -1
        sldt [buf]
        CHECK [buf], 0xffffffffffff0000 | LDT_SEL, 5, "SLDT m16 after LLDT"
        mov ax, LDT_DATA
        mov fs, ax
        mov rax, fs
        CHECK rax, LDT_DATA, 6, "FS loaded from the guest's LDT"
        xor eax, eax
        mov fs, ax

        ; LTR of a second TSS (a copy of the boot one with its own IST1): STR returns it, the
        ; CPU marks its descriptor busy in the guest's GDT, and interrupts use its stacks
        xor ecx, ecx
.copy:  mov rax, [TSS_BASE + rcx]
        mov [TSS2_BASE + rcx], rax
        add ecx, 8
        cmp ecx, 0x68
        jb .copy
        mov qword [TSS2_BASE + 36], TSS2_IST1_TOP
        SYS_DESC TSS2_SEL, TSS2_BASE, 0x67, 0x9
        mov ax, TSS2_SEL
        ltr ax
        mov rax, -1
        str rax
        CHECK rax, TSS2_SEL, 7, "STR after LTR"
        movzx eax, byte [GDT2 + TSS2_SEL + 5]
        CHECK rax, 0x8b, 8, "TSS descriptor after LTR (present, busy 64-bit TSS)"
        SET_GATE IST_VEC, STUB(IST_VEC), 0, 1
        EXPECT IST_VEC, 0
        int IST_VEC
.after: CHECK [exc_frame], TSS2_IST1_TOP - 40, 9, "INT through an IST1 gate: frame not on the new TSS's IST1 stack"
        CHECK [exc_rip], .after, 10, "INT through an IST1 gate: saved RIP"
        NOT_VMM [exc_rip], 11, "INT through an IST1 gate: saved RIP"

        ; LTR of a busy TSS: #GP(selector) at the LTR, TR unchanged
        mov ax, TSS2_SEL
        EXPECT 13, .r12
.f12:   ltr ax
        FAIL 12, "LTR of a busy TSS did not fault"
.r12:   CHECK [exc_err], TSS2_SEL, 13, "LTR of a busy TSS: error code"
        CHECK [exc_rip], .f12, 14, "LTR of a busy TSS: saved RIP"
        NOT_VMM [exc_rip], 15, "LTR of a busy TSS: saved RIP"
        str rax
        CHECK rax, TSS2_SEL, 16, "STR after a faulting LTR"

        ; LLDT of a selector that is not an LDT (a data segment): #GP(selector)
        mov ax, KDATA
        EXPECT 13, .r17
.f17:   lldt ax
        FAIL 17, "LLDT of a data segment did not fault"
.r17:   CHECK [exc_err], KDATA, 18, "LLDT of a data segment: error code"
        CHECK [exc_rip], .f17, 19, "LLDT of a data segment: saved RIP"

        ; LLDT of the null selector empties LDTR
        xor eax, eax
        lldt ax
        mov rax, -1
        sldt rax
        CHECK rax, 0, 20, "SLDT after LLDT of the null selector"
        CHECK [exc_count], 3, 21, "number of exceptions"
        PASS
