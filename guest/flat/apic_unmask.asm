; apic_unmask: an interrupt that a write to the local APIC lets through is taken right after
; the writing instruction (if IF = 1), as a processor recognizes it at the next instruction
; boundary (SDM Vol. 3A 11.8.3.1, 11.8.5, 6.8.1), not when the simulator next stops for
; another reason. Run with `hvsim run --flat apic_unmask.bin --apic` (the APIC at 0xfee00000
; is the interrupt controller; the test timer's vectors go through it).
;   1. EOI: 0x51 was taken and is in service (its handler sends no EOI); 0x41 raised then is
;      held back by it (class 4 <= 5); the EOI write lets it through.
;   2. Two in service (0x51, then 0x61 nested): 0x55 waits; the first EOI ends 0x61 only,
;      which still holds 0x55 back (class 5 <= 5): nothing is taken; the second EOI lets it
;      through.
;   3. TPR written through MMIO, 0x50 then 0x30: 0x41 is taken right after the second write;
;      CR8 then reads 3.
;   4. MOV to CR8 lowering the TPR with an APIC vector waiting: right after it; the APIC's TPR
;      register then reads 0.
;   5. EOI with IF = 0: nothing is taken then; STI later takes it after STI's shadow.
;   6. Writes other than MOV: AND to the TPR (a read and a write), XCHG with the EOI register.
; Each part stops the timer before the write, so a late delivery lands in the padding after
; the expected point (or nowhere, and the part fails).
%define GUEST "apic_unmask"
%include "flat.inc"

APIC_BASE       equ 0xfee00000
APIC_TPR        equ 0x080
APIC_EOI        equ 0x0b0
APIC_SVR        equ 0x0f0
APIC_ISR        equ 0x100
PERIOD          equ 500
SPIN            equ 300                 ; iterations of 2 instructions: the timer fires once in there

absolute GUEST_DATA
count41:        resq 1
rip41:          resq 1
count51:        resq 1
count55:        resq 1
rip55:          resq 1
count61:        resq 1
section .text

; RAISE vector: the test timer raises `vector` once (IF = 1: taken in the spin if nothing
; holds it back), then is stopped (a second expiry would leave the vector pending again)
%macro RAISE 1
        mov al, %1
        out TIMER_VECTOR, al
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        mov ecx, SPIN
%%spin: dec ecx
        jnz %%spin
        xor eax, eax
        out TIMER_PERIOD, eax
%endmacro

; PAD: instructions a late interrupt would land in
%macro PAD 0
        times 64 nop
        mov ecx, 2000
%%spin: dec ecx
        jnz %%spin
%endmacro

; TOOK41 status, label, "what": 0x41 was taken exactly once, with RIP at `label`
%macro TOOK41 3+
        CHECK [count41], 1, %1, %3, ": 0x41 taken"
        CHECK [rip41], %2, %1, %3, ": interrupted RIP"
        mov qword [count41], 0
        mov qword [rip41], 0
%endmacro

start:
        call idt_init
        SET_GATE 0x41, h41
        SET_GATE 0x51, h51
        SET_GATE 0x55, h55
        SET_GATE 0x61, h61
        mov rbx, APIC_BASE              ; above 2 GiB: no 32-bit displacement reaches it
        mov dword [rbx + APIC_SVR], 0x1ff   ; software-enabled, spurious vector 0xff
        sti

        ; 1. EOI of the vector in service that held 0x41 back
        RAISE 0x51
        CHECK [count51], 1, 1, "EOI: 0x51 taken"
        mov eax, [rbx + APIC_ISR + 0x20]    ; ISR bits 64-95
        CHECK rax, 1 << (0x51 - 64), 1, "EOI: 0x51 in service"
        RAISE 0x41
        CHECK [count41], 0, 1, "EOI: 0x41 held back by 0x51 in service"
        mov dword [rbx + APIC_EOI], 0
.eoi_taken:
        PAD
        TOOK41 1, .eoi_taken, "EOI"

        ; 2. nested: two EOIs, only the second lets 0x55 through
        mov qword [count51], 0
        RAISE 0x51
        RAISE 0x61                      ; class 6 nests over 0x51
        CHECK [count61], 1, 2, "two in service: 0x61 taken"
        RAISE 0x55
        CHECK [count55], 0, 2, "two in service: 0x55 held back"
        mov dword [rbx + APIC_EOI], 0   ; ends 0x61; 0x51 still holds 0x55 back
.first_eoi:
        PAD
        CHECK [count55], 0, 2, "two in service: 0x55 taken after the first EOI"
        mov dword [rbx + APIC_EOI], 0   ; ends 0x51
.second_eoi:
        PAD
        CHECK [count55], 1, 2, "two in service: 0x55 taken after the second EOI"
        CHECK [rip55], .second_eoi, 2, "two in service: interrupted RIP"

        ; 3. TPR through MMIO
        mov dword [rbx + APIC_TPR], 0x50
        RAISE 0x41
        CHECK [count41], 0, 3, "TPR 0x50: 0x41 held back"
        mov dword [rbx + APIC_TPR], 0x30
.tpr_taken:
        PAD
        TOOK41 3, .tpr_taken, "MMIO TPR write"
        mov rax, cr8
        CHECK rax, 3, 3, "MMIO TPR write: CR8"

        ; 4. MOV to CR8 with an APIC vector waiting
        mov eax, 5
        mov cr8, rax
        mov eax, [rbx + APIC_TPR]
        CHECK rax, 0x50, 4, "MOV to CR8: the APIC's TPR"
        RAISE 0x41
        CHECK [count41], 0, 4, "CR8 5: 0x41 held back"
        xor eax, eax
        mov cr8, rax
.cr8_taken:
        PAD
        TOOK41 4, .cr8_taken, "MOV to CR8"
        mov eax, [rbx + APIC_TPR]
        CHECK rax, 0, 4, "MOV to CR8 0: the APIC's TPR"

        ; 5. EOI with IF = 0, STI later
        mov qword [count51], 0
        RAISE 0x51
        RAISE 0x41
        cli
        mov dword [rbx + APIC_EOI], 0
        PAD
        CHECK [count41], 0, 5, "EOI with IF = 0: taken"
        sti
        inc rdx                         ; in STI's shadow
.sti_taken:
        PAD
        TOOK41 5, .sti_taken, "EOI with IF = 0, then STI"

        ; 6. writes other than MOV
        mov dword [rbx + APIC_TPR], 0x50
        RAISE 0x41
        CHECK [count41], 0, 6, "AND: 0x41 held back"
        and dword [rbx + APIC_TPR], 0x0f
.and_taken:
        PAD
        TOOK41 6, .and_taken, "AND to the TPR"
        RAISE 0x51
        RAISE 0x41
        CHECK [count41], 0, 7, "XCHG: 0x41 held back"
        xor eax, eax
        xchg [rbx + APIC_EOI], eax
.xchg_taken:
        PAD
        TOOK41 7, .xchg_taken, "XCHG with the EOI register"
        PASS

h41:
        push rax
        mov rax, [rsp + 8]              ; the interrupted RIP
        mov [rip41], rax
        inc qword [count41]
        push rbx
        mov rbx, APIC_BASE
        mov dword [rbx + APIC_EOI], 0
        pop rbx
        pop rax
        iretq

; no EOI: 0x51 stays in service until the main code ends it
h51:
        inc qword [count51]
        iretq

h55:
        push rax
        mov rax, [rsp + 8]
        mov [rip55], rax
        inc qword [count55]
        push rbx
        mov rbx, APIC_BASE
        mov dword [rbx + APIC_EOI], 0
        pop rbx
        pop rax
        iretq

; no EOI either
h61:
        inc qword [count61]
        iretq
