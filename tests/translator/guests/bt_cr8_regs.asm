; bt_cr8_regs: MOV to and from CR8 through registers whose encodings differ (REX.B/X/R, the
; byte registers SIL and BPL, R12 and R13 as SIB bases), which bt emulates inside its cache:
; each value 0..15 reads back through another register; bit 4 or bit 63 set is #GP(0) with
; CR8 unchanged; a source of RCX (the in-cache code's scratch register) works too; runs of
; in-cache emulations (MOV to and from CR8, OUT and IN to port 0x80, CLI) in one unit.
%define GUEST "bt_cr8_regs"
%include "flat.inc"

%macro ROUND 3                          ; source, destination, status
        xor ebx, ebx
%%loop: mov %1, rbx
        mov cr8, %1
        mov %2, cr8
        CHECK %2, rbx, %3, "CR8 written and read back"
        inc ebx
        cmp ebx, 16
        jb %%loop
%endmacro

start:
        call idt_init
        ROUND rsi, rdi, 1
        ROUND r9, r10, 2
        ROUND r12, r13, 3
        ROUND r13, r12, 4
        ROUND rbp, r15, 5
        ROUND rcx, rsi, 6
        ROUND rax, rcx, 7

        mov eax, 7
        mov cr8, rax
        mov r12, 0x10
        EXPECT 13, .r8
.f8:    mov cr8, r12
        FAIL 8, "MOV CR8, R12 with bit 4 set did not fault"
.r8:    CHECK_EXC 8, 13, 0, .f8, "MOV CR8, R12 with bit 4 set"
        mov rsi, 1 << 63
        EXPECT 13, .r9
.f9:    mov cr8, rsi
        FAIL 9, "MOV CR8, RSI with bit 63 set did not fault"
.r9:    CHECK_EXC 9, 13, 0, .f9, "MOV CR8, RSI with bit 63 set"
        mov r11, cr8
        CHECK r11, 7, 10, "CR8 after the faulting writes"
        ; runs of in-cache emulations, each several times longer than its instruction: a
        ; translation unit of them must still fit its fragment (bt ends it sooner)
        mov eax, 3
%rep 5
        mov cr8, rax
%endrep
%rep 12
        mov rdx, cr8
%endrep
        CHECK rdx, 3, 11, "a run of MOV to and from CR8"
%rep 13
        out 0x80, al
%endrep
        in al, 0x80
        CHECK rax, 0xff, 12, "a run of OUT to port 0x80, then IN"
%rep 13
        cli
%endrep
        xor eax, eax
        mov cr8, rax
        PASS
