; sens_dr: MOV to/from the debug registers in guest kernel code. They are privileged and
; belong to the VMM on a real machine; the guest must read back its own values.
%define GUEST "sens_dr"
%include "flat.inc"
%include "sens.inc"

DR6_FIXED       equ 0xffff0ff0          ; DR6 bits that read as 1
DR7_FIXED       equ 0x400               ; DR7 bit 10 reads as 1
; DR7 with no breakpoint enabled (L0-L3, G0-G3 clear) but R/W and LEN fields of the guest's:
; R/W0 = 01 (writes), LEN0 = 11 (8 bytes), R/W1 = 11, LEN1 = 01
DR7_VALUE       equ DR7_FIXED | (0b01 << 16) | (0b11 << 18) | (0b11 << 20) | (0b01 << 22)

section .text

start:
        call idt_init

        mov rax, 0x0000123456789a00
        mov dr0, rax
        mov rax, 0xffffffff80001000
        mov dr1, rax
        mov rax, GUEST_DATA
        mov dr2, rax
        mov rax, 0x7ff0
        mov dr3, rax
        mov rbx, dr0
        mov rdx, 0x0000123456789a00
        CHECK rbx, rdx, 1, "MOV from DR0"
        mov rbx, dr1
        mov rdx, 0xffffffff80001000
        CHECK rbx, rdx, 2, "MOV from DR1"
        mov rbx, dr2
        CHECK rbx, GUEST_DATA, 3, "MOV from DR2"
        mov rbx, dr3
        CHECK rbx, 0x7ff0, 4, "MOV from DR3"

        mov eax, DR7_VALUE
        mov dr7, rax
        mov rbx, dr7
        CHECK rbx, DR7_VALUE, 5, "MOV from DR7 (breakpoints configured, none enabled)"
        xor eax, eax
        mov dr6, rax
        mov rbx, dr6
        CHECK rbx, DR6_FIXED, 6, "MOV from DR6 after writing 0"

        ; the registers are the guest's across other sensitive instructions and exceptions
        EXPECT 6, .r7
.f7:    ud2
.r7:    CHECK [exc_rip], .f7, 7, "#UD: saved RIP"
        NOT_VMM [exc_rip], 8, "#UD: saved RIP"
        mov rbx, dr0
        mov rdx, 0x0000123456789a00
        CHECK rbx, rdx, 9, "MOV from DR0 after an exception"
        mov rbx, dr7
        CHECK rbx, DR7_VALUE, 10, "MOV from DR7 after an exception"

        xor eax, eax
        mov dr7, rax
        mov rbx, dr7
        CHECK rbx, DR7_FIXED, 11, "MOV from DR7 after writing 0"
        PASS
