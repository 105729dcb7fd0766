; sens_flags: CLI, STI, PUSHF and POPF in guest kernel code. Under bt, CLI clears a virtual IF
; in the VMM's data area (in-cache), and PUSHF, POPF and STI are callouts: PUSHF must show the
; guest's virtual IF and IOPL (Robin & Irvine: PUSHF is unprivileged), POPF must set them, and
; a timer interrupt must wait while the virtual IF is 0 and come after STI, with a frame that
; holds a guest RIP.
%define GUEST "sens_flags"
%include "flat.inc"
%include "sens.inc"

TICK_VEC        equ 0x20
PERIOD          equ 2000                ; virtual ns = instructions
ARITH_FLAGS     equ 0x8d5               ; CF PF AF ZF SF OF
RFLAGS_AC       equ 1 << 18
RFLAGS_ID       equ 1 << 21

absolute GUEST_DATA
ticks:          resq 1
tick_rip:       resq 1
tick_cs:        resq 1
tick_rflags:    resq 1
tick_rsp:       resq 1
section .text

start:
        call idt_init
        SET_GATE TICK_VEC, tick
        mov al, TICK_VEC
        out TIMER_VECTOR, al

        ; IF as CLI and STI leave it
        CHECK_FLAGS RFLAGS_IF, 0, 1, "PUSHF at boot: IF"
        sti
        CHECK_FLAGS RFLAGS_IF, RFLAGS_IF, 2, "PUSHF after STI: IF"
        cli
        CHECK_FLAGS RFLAGS_IF, 0, 3, "PUSHF after CLI: IF"

        ; POPF restores IF from an image PUSHF took
        sti
        pushfq
        cli
        CHECK_FLAGS RFLAGS_IF, 0, 4, "PUSHF after STI, PUSHF, CLI: IF"
        popfq
        CHECK_FLAGS RFLAGS_IF, RFLAGS_IF, 5, "PUSHF after POPF of an image with IF set: IF"
        push qword 0x2
        popfq
        CHECK_FLAGS -1, 0x2, 6, "PUSHF after POPF 0x2: all of RFLAGS"

        ; IOPL, the arithmetic flags, AC and ID: POPF at CPL0 sets them, PUSHF shows them
        push qword RFLAGS_IOPL3 | 0x2
        popfq
        CHECK_FLAGS -1, RFLAGS_IOPL3 | 0x2, 7, "PUSHF after POPF with IOPL 3"
        push qword RFLAGS_ID | RFLAGS_AC | ARITH_FLAGS | 0x2
        popfq
        CHECK_FLAGS -1, RFLAGS_ID | RFLAGS_AC | ARITH_FLAGS | 0x2, 8, "PUSHF after POPF of ID, AC, OF SF ZF AF PF CF"
        push qword ARITH_FLAGS | 0x2
        popfq
        jnc .bad_cf                      ; the flags POPF loaded are the ones branches test
        jnz .bad_cf
        jno .bad_cf
        push qword 0x2
        popfq
        jmp .cf_ok
.bad_cf:
        FAIL 9, "CF, ZF or OF not set after POPF"
.cf_ok:
        ; PUSHF and POPF use the guest's stack
        mov rbx, rsp
        pushfq
        lea rcx, [rbx - 8]
        CHECK rsp, rcx, 10, "RSP after PUSHF"
        CHECK [rsp], 0x2, 11, "the value PUSHF stored at [RSP]"
        popfq
        CHECK rsp, rbx, 12, "RSP after POPF"

        ; an exception right after CLI or STI: its frame holds the IF they left (the in-cache
        ; CLI's virtual IF reaches the frame although no callout came in between)
        sti
        EXPECT 6, .r23
        cli
.f23:   ud2
.r23:   CHECK [exc_rip], .f23, 23, "#UD right after CLI: saved RIP"
        mov rax, [exc_rflags]
        and eax, RFLAGS_IF
        CHECK rax, 0, 24, "#UD right after CLI: saved RFLAGS.IF"
        EXPECT 6, .r25
        sti
.f25:   ud2
.r25:   mov rax, [exc_rflags]
        and eax, RFLAGS_IF
        CHECK rax, RFLAGS_IF, 25, "#UD right after STI: saved RFLAGS.IF"
        cli

        ; a timer interrupt comes due while the (virtual) IF is 0: it must wait
        cli
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        mov ecx, 5 * PERIOD
.spin:  dec ecx
        jnz .spin
        CHECK [ticks], 0, 13, "a timer interrupt was taken with IF = 0"
        CHECK_FLAGS RFLAGS_IF, 0, 14, "PUSHF with the timer pending: IF"

        ; STI: it is taken, with a frame of the guest's
        mov rbx, rsp
        sti
.wait:  cmp qword [ticks], 0
        je .wait
.wait_end:
        CHECK [ticks], 1, 15, "timer interrupts taken after STI"
        mov rax, [tick_rip]
        cmp rax, .wait
        jb .bad_rip
        cmp rax, .wait_end
        jbe .rip_ok
.bad_rip:
        mov edx, .wait
        FAILV 16, "timer after STI: saved RIP outside the wait loop"
.rip_ok:
        NOT_VMM [tick_rip], 17, "timer after STI: saved RIP"
        CHECK [tick_cs], KCODE, 18, "timer after STI: saved CS"
        mov rax, [tick_rflags]
        and eax, RFLAGS_IF | RFLAGS_IOPL3
        CHECK rax, RFLAGS_IF, 19, "timer after STI: saved RFLAGS.IF/IOPL"
        CHECK [tick_rsp], rbx, 20, "timer after STI: saved RSP"
        CHECK_FLAGS RFLAGS_IF, RFLAGS_IF, 21, "PUSHF after the handler's IRETQ: IF"
        cli
        CHECK_FLAGS RFLAGS_IF, 0, 22, "PUSHF after the last CLI: IF"
        mov r15, [tick_rip]             ; the final registers: bt's interrupt lands where native's does
        PASS

; the timer's handler: records its frame, stops the timer
tick:
        push rax
        mov rax, [rsp + 8]
        mov [tick_rip], rax
        mov rax, [rsp + 16]
        mov [tick_cs], rax
        mov rax, [rsp + 24]
        mov [tick_rflags], rax
        mov rax, [rsp + 32]
        mov [tick_rsp], rax
        inc qword [ticks]
        xor eax, eax
        out TIMER_PERIOD, eax
        pop rax
        iretq
