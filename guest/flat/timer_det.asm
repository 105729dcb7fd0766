; timer_det: the test interval timer is deterministic.  With a period of PERIOD virtual
; ns (= instructions) and IF=1 the guest spins; the handler prints, for N ticks, the
; interrupted RIP and the TSC.  The test runs the guest twice and compares the lines.
; In the guest: the interrupted RIP is in the spin loop; tick k comes at or after its
; deadline, and not later than half a period after it; an HLT with IF=1 is woken by
; the next tick, whose saved RIP is the instruction after the HLT.
%define GUEST "timer_det"
%include "flat.inc"

N               equ 20
PERIOD          equ 10000
TICK_VEC        equ 0x20
SLACK           equ 32                  ; instructions between programming and t0

absolute GUEST_DATA
ticks:          resq 1
t0:             resq 1
tsc_now:        resq 1
hlt_rip:        resq 1
section .text

%macro TSC_TO 1                         ; %1 <- TSC (clobbers rax, rdx)
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov %1, rax
%endmacro

start:
        call idt_init
        SET_GATE TICK_VEC, tick
        mov al, TICK_VEC
        out TIMER_VECTOR, al
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        TSC_TO [t0]
        mov ebx, 1
        sti
.spin:  imul rbx, rbx, 33               ; work for the timer to interrupt
        add rbx, 7
        cmp qword [ticks], N
        jb .spin
.spin_end:
        cli
        CHECK [ticks], N, 1, "tick count after the spin loop"

        ; HLT with IF=1 sleeps until the next tick (the handler stopped the timer)
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        TSC_TO r14
        sti
        hlt
.after_hlt:
        cli
        TSC_TO r15
        CHECK [ticks], N + 1, 2, "HLT with IF=1 was not ended by one timer interrupt"
        CHECK [hlt_rip], .after_hlt, 3, "saved RIP of the interrupt that ended HLT"
        sub r15, r14
        cmp r15, PERIOD - SLACK
        jae .slept
        mov rax, r15
        mov edx, PERIOD - SLACK
        FAILV 4, "HLT returned before the timer deadline (TSC cycles asleep)"
.slept: PRINT "hlt woke after "
        mov rax, r15
        call putdec
        PRINT " TSC cycles", 10
        PASS

tick:
        push rax
        push rdx
        push rcx
        push rbx
        mov rcx, [rsp + 32]             ; saved RIP
        inc qword [ticks]
        mov rbx, [ticks]
        cmp rbx, N
        ja .after_n
        cmp rcx, start.spin
        jb .bad_rip
        cmp rcx, start.spin_end
        ja .bad_rip

        ; deadline of tick k: t0 + k * PERIOD (give or take SLACK)
        TSC_TO [tsc_now]
        imul rdx, rbx, PERIOD
        add rdx, [t0]
        sub rdx, SLACK
        cmp rax, rdx
        jb .early
        add rdx, SLACK + PERIOD / 2
        cmp rax, rdx
        ja .late

        PRINT "tick "
        mov rax, rbx
        call putdec
        PRINT " rip=0x"
        mov rax, rcx
        call puthex
        PRINT " tsc=0x"
        mov rax, [tsc_now]
        call puthex
        call putnl
        cmp rbx, N
        jb .done
.stop:  xor eax, eax
        out TIMER_PERIOD, eax
.done:  pop rbx
        pop rcx
        pop rdx
        pop rax
        iretq
.after_n:
        mov [hlt_rip], rcx
        jmp .stop

.bad_rip:
        mov rax, rcx
        mov edx, start.spin
        FAILV 10, "timer interrupt: saved RIP outside the spin loop"
.early: FAILV 11, "timer interrupt: TSC before the deadline"
.late:  FAILV 12, "timer interrupt: TSC more than half a period after the deadline"
