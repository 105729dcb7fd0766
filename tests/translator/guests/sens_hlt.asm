; sens_hlt: HLT in guest kernel code (a callout under bt: the VMM idles the virtual CPU until
; its next virtual interrupt). STI; HLT waits for the timer; the interrupt's frame holds the
; guest RIP after the HLT, and virtual time moved on to the deadline.
%define GUEST "sens_hlt"
%include "flat.inc"
%include "sens.inc"

TICK_VEC        equ 0x20
PERIOD          equ 100000              ; virtual ns: far beyond the instructions before HLT

absolute GUEST_DATA
ticks:          resq 1
section .text

start:
        call idt_init
        SET_GATE TICK_VEC, STUB(TICK_VEC)
        mov al, TICK_VEC
        out TIMER_VECTOR, al

        rdtsc
        shl rdx, 32
        or rax, rdx
        mov r12, rax
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        mov rbx, rsp
        EXPECT TICK_VEC, 0
        sti                             ; its shadow covers the HLT: no interrupt in between
        hlt
.after: cli
        xor eax, eax
        out TIMER_PERIOD, eax
        CHECK [exc_vec], TICK_VEC, 1, "HLT: woken by something else than the timer"
        CHECK [exc_rip], .after, 2, "timer during HLT: saved RIP (the instruction after HLT)"
        NOT_VMM [exc_rip], 3, "timer during HLT: saved RIP"
        CHECK [exc_cs], KCODE, 4, "timer during HLT: saved CS"
        mov rax, [exc_rflags]
        and eax, RFLAGS_IF
        CHECK rax, RFLAGS_IF, 5, "timer during HLT: saved RFLAGS.IF"
        CHECK [exc_rsp], rbx, 6, "timer during HLT: saved RSP"
        rdtsc
        shl rdx, 32
        or rax, rdx
        sub rax, r12
        mov r13, rax                    ; the final registers: the same wait as under native
        cmp rax, PERIOD
        jae .waited
        mov edx, PERIOD
        FAILV 7, "virtual time after HLT: less than the timer's period went by"
.waited:
        CHECK [exc_count], 1, 8, "number of interrupts"
        PASS
