; sens_cr0: MOV to/from CR0, SMSW, LMSW and CLTS in guest kernel code. SMSW is unprivileged
; (Robin & Irvine): it must show the low bits of the guest's CR0, as the guest last set them.
%define GUEST "sens_cr0"
%include "flat.inc"
%include "sens.inc"

BOOT_CR0        equ 0x80010031          ; PG, WP, NE, ET, PE
CR0_MP          equ 1 << 1
CR0_TS          equ 1 << 3

absolute GUEST_DATA
buf:            resq 1
section .text

start:
        call idt_init

        mov rax, cr0
        CHECK rax, BOOT_CR0, 1, "MOV from CR0 at boot"
        smsw rax
        and eax, 0xffff
        CHECK rax, BOOT_CR0 & 0xffff, 2, "SMSW r64 at boot (low 16 bits)"
        mov qword [buf], -1
        smsw [buf]
        CHECK [buf], 0xffffffffffff0000 | (BOOT_CR0 & 0xffff), 3, "SMSW m16 at boot (only 2 bytes written)"

        ; MOV to CR0 sets TS: MOV from CR0 and SMSW show it
        mov rax, cr0
        or eax, CR0_TS
        mov cr0, rax
        mov rax, cr0
        CHECK rax, BOOT_CR0 | CR0_TS, 4, "MOV from CR0 after setting TS"
        smsw ax
        movzx eax, ax
        CHECK rax, (BOOT_CR0 | CR0_TS) & 0xffff, 5, "SMSW r16 after setting TS"

        ; CLTS clears it again
        clts
        mov rax, cr0
        CHECK rax, BOOT_CR0, 6, "MOV from CR0 after CLTS"
        smsw eax
        and eax, 0xffff
        CHECK rax, BOOT_CR0 & 0xffff, 7, "SMSW r32 after CLTS"

        ; LMSW writes CR0[3:0] but cannot clear PE: 0x000a sets MP and TS, PE stays
        mov ax, CR0_MP | CR0_TS
        lmsw ax
        mov rax, cr0
        CHECK rax, BOOT_CR0 | CR0_MP | CR0_TS, 8, "MOV from CR0 after LMSW (PE kept)"
        smsw [buf]
        movzx eax, word [buf]
        CHECK rax, (BOOT_CR0 | CR0_MP | CR0_TS) & 0xffff, 9, "SMSW m16 after LMSW"
        mov word [buf], 0x0001                   ; LMSW m16: back to PE only
        lmsw [buf]
        mov rax, cr0
        CHECK rax, BOOT_CR0, 10, "MOV from CR0 after LMSW m16"

        ; clearing WP (bit 16, outside the machine status word)
        mov rax, cr0
        and eax, ~(1 << 16)
        mov cr0, rax
        mov rax, cr0
        CHECK rax, BOOT_CR0 & ~(1 << 16), 11, "MOV from CR0 after clearing WP"
        smsw rax
        and eax, 0xffff
        CHECK rax, BOOT_CR0 & 0xffff, 12, "SMSW after clearing WP (bit 16 is not in the MSW)"
        mov rax, BOOT_CR0
        mov cr0, rax

        ; SMSW to a non-canonical address: #GP(0) at the SMSW. (No #GP check for MOV to CR0:
        ; the Unicorn substrate ignores CR0's reserved bits, under every engine.)
        mov rbx, 0x0000800000000000
        EXPECT 13, .r13
.f13:   smsw [rbx]
        FAIL 13, "SMSW to a non-canonical address did not fault"
.r13:   CHECK [exc_rip], .f13, 14, "SMSW #GP: saved RIP"
        NOT_VMM [exc_rip], 15, "SMSW #GP: saved RIP"
        CHECK [exc_err], 0, 16, "SMSW #GP: error code"
        mov rax, cr0
        CHECK rax, BOOT_CR0, 17, "MOV from CR0 at the end"
        CHECK [exc_count], 1, 18, "number of exceptions"
        PASS
