; bt_lookup: indirect jumps, calls and returns. bt looks their targets up inside its
; translation cache (a hash table for jmp and call, a return-address cache for ret, a callout
; on a miss); the guest must not see it. Checked: results of calls through a register, a
; memory operand, a RIP-relative operand and a segment-prefixed operand, jumps through a
; register and memory, RET imm16; targets and return addresses that share a table slot (the
; same low 16 bits); a target rewritten after it was looked up; a #PF in the load of the
; target (at the JMP, RAX and RCX as before), in the CALL's push (at the CALL, RSP, RAX and
; RCX as before) and a #GP for a return to a non-canonical address (at the RET, RSP as
; before); timer interrupts landing anywhere in a loop of indirect calls and returns.
%define GUEST "bt_lookup"
%include "flat.inc"

TICK_VEC        equ 0x40
PERIOD          equ 997             ; virtual ns: lands everywhere in the loop over time

absolute GUEST_DATA
slot_call:      resq 1
slot_jump:      resq 1
ticks:          resq 1
section .text

start:
        call idt_init
        SET_GATE 14, STUB(14), 0, 1     ; #PF on IST1: the stack may be the fault
        SET_GATE TICK_VEC, tick

        ; 1. a call through a register, 1000 times
        xor eax, eax
        lea rbx, [rel leaf_inc]
        mov ecx, 1000
.l1:    call rbx
        dec ecx
        jnz .l1
        CHECK rax, 1000, 1, "1000 calls through a register"

        ; 2. through memory, RIP-relative and FS-prefixed operands
        lea rax, [rel leaf_inc]
        mov [slot_call], rax
        xor eax, eax
        call [slot_call]
        call [rel leaf_ptr]
        mov ecx, 0xc0000100             ; IA32_FS_BASE: FS points at GUEST_DATA
        mov r8, rax
        mov eax, GUEST_DATA
        xor edx, edx
        wrmsr
        mov rax, r8
        xor r9d, r9d
        call [fs:r9 + slot_call - GUEST_DATA]
        CHECK rax, 3, 2, "calls through memory operands"

        ; 3. jumps through a register and memory, 100 times
        xor r10d, r10d
        lea rax, [rel .j2]
        mov [slot_jump], rax
        mov ecx, 100
.j0:    lea r9, [rel .j1]
        jmp r9
        ud2
.j1:    inc r10
        jmp [slot_jump]
        ud2
.j2:    inc r10
        dec ecx
        jnz .j0
        CHECK r10, 200, 3, "jumps through a register and memory"

        ; 4. RET imm16 pops its argument
        mov r12, rsp
        push 0x1111
        push 0x2222
        call leaf_ret16
        CHECK rsp, r12, 4, "RET 16 pops the arguments"

        ; 5. targets that share a slot in both tables: conflict_a and conflict_b are 64 KiB
        ;    apart, and so are the returns from their calls of leaf_inc
        xor eax, eax
        mov ecx, 100
.l5:    lea rbx, [rel conflict_a]
        call rbx
        lea rbx, [rel conflict_b]
        call rbx
        dec ecx
        jnz .l5
        CHECK rax, 100 * 0x101, 5, "targets sharing a table slot"

        ; 6. a target rewritten after it was looked up: the new code runs
        lea rbx, [rel patchme]
        call rbx
        CHECK rax, 1, 6, "before the rewrite"
        mov byte [rel patchme + 1], 2   ; mov eax, imm32: its immediate
        call rbx
        CHECK rax, 2, 6, "a target rewritten after its lookup"

        ; 7. the target's load faults: #PF at the JMP, RAX and RCX as they were
        EXPECT 14, .after7
        mov rax, 0x1234
        mov rcx, 0x5678
        mov rdx, 0x200000000            ; above the 4 GiB mapped
.jf:    jmp [rdx]
.after7:
        mov r8, rax
        mov r9, rcx
        CHECK_EXC 7, 14, 0, .jf, "jmp [unmapped]"
        CHECK r8, 0x1234, 7, "RAX after a fault in the target's load"
        CHECK r9, 0x5678, 7, "RCX after a fault in the target's load"

        ; 8. the return address's push faults: #PF at the CALL, RSP, RAX and RCX as they were
        mov r12, rsp
        EXPECT 14, .after8
        lea rax, [rel leaf_inc]
        mov rcx, 0x9abc
        mov rsp, 0x200000010
.cf:    call rax
.after8:
        mov r13, rsp
        mov rsp, r12
        mov r8, rax
        mov r9, rcx
        CHECK_EXC 8, 14, 2, .cf, "call with an unmapped stack"
        CHECK [exc_rsp], 0x200000010, 8, "RSP after a fault in the push"
        lea rdx, [rel leaf_inc]
        CHECK r8, rdx, 8, "RAX after a fault in the push"
        CHECK r9, 0x9abc, 8, "RCX after a fault in the push"

        ; 9. a return to a non-canonical address: #GP(0). The SDM has it raised by the RET
        ;    (RIP and RSP as before it); the CPU substrate raises it at the fetch of the target
        ;    (RIP the target, RSP after the pop: docs/unicorn-notes.md). bt must do as native:
        ;    the frame's RIP and RSP stay in R12 and R13 for the engines' comparison.
        mov r14, rsp
        mov rax, 0x8000000000000000
        push rax
        EXPECT 13, .after9
.rf:    ret
.after9:
        mov rsp, r14
        CHECK [exc_vec], 13, 9, "ret to a non-canonical address: vector"
        CHECK [exc_err], 0, 9, "ret to a non-canonical address: error code"
        mov r12, [exc_rip]
        mov r13, [exc_rsp]

        ; 10. timer interrupts in a loop of indirect calls, jumps and returns
        mov qword [ticks], 0
        mov al, TICK_VEC
        out TIMER_VECTOR, al
        mov eax, PERIOD
        out TIMER_PERIOD, eax
        sti
        xor eax, eax
        xor r10d, r10d
        lea rbx, [rel leaf_inc]
        lea rsi, [rel .t1]
        mov ecx, 20000
.t0:    call rbx
        jmp rsi
        ud2
.t1:    call [rel leaf_ptr]
        dec ecx
        jnz .t0
        cli
        mov r14, rax
        xor eax, eax
        out TIMER_PERIOD, eax
        CHECK r14, 40000, 10, "calls with interrupts"
        mov r15, [ticks]
        cmp r15, 100
        jae .ticked
        FAIL 10, "too few timer interrupts in the loop"
.ticked:
        PASS

leaf_inc:
        inc rax
        ret

leaf_ptr:
        dq leaf_inc

leaf_ret16:
        ret 16

tick:
        inc qword [ticks]
        iretq

        align 4096
patchme:
        mov eax, 1
        ret

        align 4096
conflict_a:
        call leaf_inc
        ret
        align 0x10000, db 0xcc
        times (conflict_a - $$) & 0xffff db 0xcc
conflict_b:                             ; conflict_a + 0x10000
        call leaf_inc
        add rax, 0xff
        ret
