; iret_user: IRETQ from CPL0 to CPL3 and back to CPL0 by interrupt, both an external
; one (the test timer, while CPL3 spins) and INT 0x80 through a DPL3 gate.
; Checks: IRETQ to CPL3 loads CS/SS from the frame and nulls DS/ES (DPL0 data
; segments are not usable at CPL3); an interrupt from CPL3 switches to TSS.RSP0,
; pushes the user SS:RSP, RFLAGS, CS:RIP, and loads a null SS (64-bit mode).
%define GUEST "iret_user"
%include "flat.inc"

TICK_VEC        equ 0x20
PERIOD          equ 20000               ; virtual ns = instructions
TICKS           equ 3

absolute GUEST_DATA
ticks:          resq 1
section .text

start:
        call idt_init
        SET_GATE TICK_VEC, tick
        SET_GATE 0x80, int80, 3
        mov ax, KDATA                   ; as on entry; IRETQ to CPL3 must null them
        mov ds, ax
        mov es, ax
        mov al, TICK_VEC
        out TIMER_VECTOR, al
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        USER_MODE user, RFLAGS_IF | 2

user:
        CHECK cs, UCODE, 1, "CS after IRETQ to CPL3"
        CHECK ss, UDATA, 2, "SS after IRETQ to CPL3"
        CHECK rsp, USER_STACK_TOP, 3, "RSP after IRETQ to CPL3"
        CHECK ds, 0, 4, "DS after IRETQ to CPL3 (DPL0 data segment must be nulled)"
        CHECK es, 0, 5, "ES after IRETQ to CPL3 (DPL0 data segment must be nulled)"
        pushfq
        pop rax
        and eax, RFLAGS_IF | RFLAGS_IOPL3
        CHECK rax, RFLAGS_IF, 6, "RFLAGS.IF/IOPL after IRETQ to CPL3"
.spin:  cmp qword [ticks], TICKS        ; the timer handler returns here each time
        jb .spin
.spin_end:
        mov edi, 0x1234
        int 0x80
.after80:
        FAIL 7, "INT 0x80 returned"

; external interrupt from CPL3
tick:
        push rax
        push rdx
        CHECK rsp, RSP0_TOP - 40 - 16, 20, "timer from CPL3: frame not on the RSP0 stack"
        CHECK ss, 0, 21, "SS in the handler (null after a CPL change)"
        CHECK [rsp + 16 + 8], UCODE, 22, "timer from CPL3: saved CS"
        CHECK [rsp + 16 + 32], UDATA, 23, "timer from CPL3: saved SS"
        CHECK [rsp + 16 + 24], USER_STACK_TOP, 24, "timer from CPL3: saved RSP"
        mov rax, [rsp + 16 + 16]
        and eax, RFLAGS_IF | RFLAGS_IOPL3
        CHECK rax, RFLAGS_IF, 25, "timer from CPL3: saved RFLAGS.IF/IOPL"
        mov rax, [rsp + 16]             ; saved RIP: somewhere in the spin loop
        cmp rax, user.spin
        jb .bad_rip
        cmp rax, user.spin_end
        ja .bad_rip
        inc qword [ticks]
        pop rdx
        pop rax
        iretq
.bad_rip:
        mov edx, user.spin
        FAILV 26, "timer from CPL3: saved RIP outside the spin loop"

; INT 0x80 from CPL3 ends the test
int80:
        xor eax, eax
        out TIMER_PERIOD, eax
        CHECK rsp, RSP0_TOP - 40, 30, "INT 0x80 from CPL3: frame not on the RSP0 stack"
        CHECK ss, 0, 31, "SS in the INT 0x80 handler (null after a CPL change)"
        CHECK [rsp], user.after80, 32, "INT 0x80 from CPL3: saved RIP"
        CHECK [rsp + 8], UCODE, 33, "INT 0x80 from CPL3: saved CS"
        CHECK [rsp + 24], USER_STACK_TOP, 34, "INT 0x80 from CPL3: saved RSP"
        CHECK [rsp + 32], UDATA, 35, "INT 0x80 from CPL3: saved SS"
        CHECK rdi, 0x1234, 36, "RDI in the INT 0x80 handler"
        CHECK [ticks], TICKS, 37, "timer interrupts taken at CPL3"
        PASS
