; irq_window: a timer interrupt that fell due while IF was 0 is taken as soon as the guest
; can take it (SDM Vol. 3A 6.8.3, 7.8.6), not at some later timer deadline:
;   - STI: after the one instruction in STI's shadow;
;   - POPFQ and IRETQ that set IF: right after them (no shadow);
;   - STI followed by an instruction hvsim stops before but lets the CPU execute (MOV to CR3
;     under every engine, CPUID under vtx): still after that instruction, not before it;
;   - MOV to CR8 lowering the TPR below a pending interrupt's class, IF = 1: right after it;
;   - STI; HLT: HLT runs in the shadow, then the pending interrupt wakes it at once;
;   - two interrupts waiting: the second is taken where the first one's IRETQ returns to
;     (interrupt gate), or before the first handler's first instruction (trap gate).
; Each part programs the timer, spins with IF = 0 until it has fired, then enables
; interrupts; the handler records the interrupted RIP and stops the timer.  A late delivery
; lands somewhere in the padding after the expected point.
%define GUEST "irq_window"
%include "flat.inc"

PERIOD          equ 200
SPIN            equ 400                 ; iterations of 2 instructions: the timer fires in there
TICK_VEC        equ 0x20

absolute GUEST_DATA
ticks:          resq 1
tick_rip:       resq 1
rip44:          resq 1                  ; where vector 0x44 / 0x47 interrupted
rip47:          resq 1
first:          resq 1                  ; the vector taken first
section .text

; ARM: start the timer (period PERIOD), then spin with IF = 0 until it has fired
%macro ARM 0
        mov qword [ticks], 0
        mov qword [tick_rip], 0
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        mov ecx, SPIN
%%spin: dec ecx
        jnz %%spin
%endmacro

; PAD: instructions a late interrupt would land in
%macro PAD 0
        times 64 nop
        mov ecx, 2000
%%spin: dec ecx
        jnz %%spin
%endmacro

; TOOK status, label, "what": exactly one tick, taken with RIP at `label`
%macro TOOK 3+
        cli
        CHECK [ticks], 1, %1, %3, ": ticks"
        CHECK [tick_rip], %2, %1, %3, ": interrupted RIP"
%endmacro

start:
        call idt_init
        SET_GATE TICK_VEC, tick
        mov al, TICK_VEC
        out TIMER_VECTOR, al

        ; STI: the instruction after STI runs, then the interrupt is taken
        ARM
        sti
        inc rbx                         ; in STI's shadow
.sti_taken:
        PAD
        TOOK 1, .sti_taken, "STI"

        ; POPFQ that sets IF
        ARM
        pushfq
        or qword [rsp], RFLAGS_IF
        popfq
.popf_taken:
        PAD
        TOOK 2, .popf_taken, "POPFQ"

        ; IRETQ to the same privilege level with IF set in the frame
        ARM
        mov rax, rsp
        push qword KDATA
        push rax
        pushfq
        or qword [rsp], RFLAGS_IF
        push qword KCODE
        push qword .iret_taken
        iretq
.iret_taken:
        PAD
        TOOK 3, .iret_taken, "IRETQ"

        ; STI; MOV CR3 (hvsim stops before MOV to CR and lets the CPU execute it)
        ARM
        mov rax, cr3
        sti
        mov cr3, rax                    ; in STI's shadow
.cr3_taken:
        PAD
        TOOK 4, .cr3_taken, "STI; MOV CR3"

        ; STI; CPUID (an exit under vtx, executed by the CPU)
        ARM
        xor eax, eax
        sti
        cpuid                           ; in STI's shadow
.cpuid_taken:
        PAD
        TOOK 5, .cpuid_taken, "STI; CPUID"

        ; MOV to CR8 lowering the TPR, IF = 1: the interrupt (class 2) waited for it
        mov eax, 2
        mov cr8, rax
        sti
        ARM
        xor eax, eax
        mov cr8, rax
.tpr_taken:
        PAD
        TOOK 6, .tpr_taken, "MOV CR8 lowering the TPR"

        ; STI; HLT with the interrupt already pending: HLT runs, then the interrupt wakes it
        ARM
        sti
        hlt
.hlt_taken:
        PAD
        TOOK 7, .hlt_taken, "STI; HLT"

        ; Two interrupts waiting (0x47 and 0x44, both class 4), held back by the TPR, then
        ; only by IF: 0x47 first, 0x44 when its handler's IRETQ sets IF again.
        SET_GATE 0x44, h44
        SET_GATE 0x47, h47
        call two_pending
        sti
        inc rbx                         ; in STI's shadow
.two_taken:
        PAD
        cli
        CHECK [first], 0x47, 8, "two waiting: the higher vector first"
        CHECK [rip47], .two_taken, 8, "two waiting: RIP of the first"
        CHECK [rip44], .two_taken, 8, "two waiting: the second, where the first returned to"

        ; The same through a trap gate for 0x47: IF stays 1, so 0x44 comes before the first
        ; instruction of 0x47's handler.
        SET_GATE 0x47, h47, 0, 0, 0xF
        call two_pending
        sti
        inc rbx
.trap_taken:
        PAD
        cli
        CHECK [rip47], .trap_taken, 9, "trap gate: RIP of the first"
        CHECK [rip44], h47, 9, "trap gate: the second, at the first handler's entry"
        CHECK [first], 0x44, 9, "trap gate: the nested handler runs first"
        PASS

; two_pending: vectors 0x44 and 0x47 pending, the TPR (class 3) letting them through, IF = 0
two_pending:
        mov qword [first], 0
        mov qword [rip44], 0
        mov qword [rip47], 0
        mov eax, 5
        mov cr8, rax                    ; hold class 4 back
        mov al, 0x44
        out TIMER_VECTOR, al
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        mov ecx, SPIN
.s1:    dec ecx
        jnz .s1
        mov al, 0x47
        out TIMER_VECTOR, al
        mov ecx, SPIN
.s2:    dec ecx
        jnz .s2
        xor eax, eax
        out TIMER_PERIOD, eax
        mov eax, 3
        mov cr8, rax
        ret

h44:
        push rax
        mov rax, [rsp + 8]
        mov [rip44], rax
        cmp qword [first], 0
        jne .done
        mov qword [first], 0x44
.done:  pop rax
        iretq

h47:
        push rax
        mov rax, [rsp + 8]
        mov [rip47], rax
        cmp qword [first], 0
        jne .done
        mov qword [first], 0x47
.done:  pop rax
        iretq

tick:
        push rax
        mov rax, [rsp + 8]              ; the interrupted RIP
        mov [tick_rip], rax
        inc qword [ticks]
        xor eax, eax
        out TIMER_PERIOD, eax
        pop rax
        iretq
