; tpr_halt: HLT with IF = 1 while the TPR (CR8) masks the timer's vector.  The interrupt is
; held back, not lost: with the TPR at class 3, the timer's vector 0x44 (class 4) wakes an
; HLT; with the TPR at class 4 nothing can ever wake it (the TPR cannot change while the CPU
; is halted), so the run ends as a halt that can never end: exit status 121, at once.
; (hvsim used to skip from timer deadline to timer deadline forever, found by the bt
; differential fuzzer.)
%define GUEST "tpr_halt"
%include "flat.inc"

PERIOD          equ 1000
TICK_VEC        equ 0x44                ; priority class 4

absolute GUEST_DATA
ticks:          resq 1
section .text

start:
        call idt_init
        SET_GATE TICK_VEC, tick
        mov al, TICK_VEC
        out TIMER_VECTOR, al

        ; TPR class 3: vector 0x44 gets through and ends the HLT
        mov eax, 3
        mov cr8, rax
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        sti
        hlt
        cli
        CHECK [ticks], 1, 1, "HLT with the TPR below the timer's class: ticks"

        ; TPR class 4: every interrupt that can still arrive is masked
        mov eax, 4
        mov cr8, rax
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        PRINT "halting with the timer masked by the TPR", 10
        sti
        hlt
        FAIL 2, "HLT with the timer masked by the TPR returned"

tick:
        push rax
        inc qword [ticks]
        xor eax, eax
        out TIMER_PERIOD, eax
        pop rax
        iretq
