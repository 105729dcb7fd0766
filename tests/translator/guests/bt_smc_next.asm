; bt_smc_next: a store to the instruction right after it (or a little further on in the same
; block) must be seen when that instruction runs: "a write to the code immediately following
; ... is seen" (Intel SDM Vol. 3, 11.6, self-modifying code). bt runs kernel code from
; copies in its translation cache, translated before the store; it must stop right after a
; store to translated code and run the new bytes. Stores by MOV (RIP-relative and through a
; register), by a read-modify-write, by REP STOSB, by pushes onto a stack inside the code;
; the next instruction's immediate and its opcode; again in a loop; the store first in its
; block (timed: it retires once); across a page boundary.
; (Found by the bt differential fuzzer: `mov byte [rel L+3], 0x7f; L: add rax, 5` left 5.)
%define GUEST "bt_smc_next"
%include "flat.inc"

start:
        call idt_init

        ; the immediate of the next instruction, RIP-relative
        xor eax, eax
        mov byte [rel .imm1 + 1], 7
.imm1:  mov eax, 1
        CHECK rax, 7, 1, "MOV to the next instruction's immediate"

        ; two instructions further on, through a register
        lea rdi, [rel .imm2 + 1]
        xor eax, eax
        mov dword [rdi], 0x12345
        nop
.imm2:  mov eax, 2
        CHECK rax, 0x12345, 2, "MOV through a register, two instructions ahead"

        ; a read-modify-write of the next instruction's immediate
        mov eax, 0
        add byte [rel .imm3 + 1], 0x30
.imm3:  mov eax, 3
        CHECK rax, 0x33, 3, "ADD to the next instruction's immediate"

        ; the next instruction replaced: 2 NOPs become INC EAX (FF C0)
        mov eax, 10
        mov word [rel .op4], 0xc0ff
.op4:   nop
        nop
        CHECK rax, 11, 4, "the next instruction's opcode replaced"

        ; REP STOSB over the next instruction's immediate (4 bytes of 0x11)
        lea rdi, [rel .imm5 + 1]
        mov ecx, 4
        mov eax, 0x11
        cld
        rep stosb
.imm5:  mov eax, 5
        CHECK rax, 0x11111111, 5, "REP STOSB over the next instruction"

        ; a PUSH whose stack is the next instruction: RSP at its end, imm32 replaced
        mov r8, rsp
        lea rsp, [rel .imm6 + 10]       ; PUSH writes [.imm6 + 2, .imm6 + 10)
        mov eax, 0x66
        push rax
.imm6:  mov rax, 0x0102030405060708      ; 48 B8 imm64: bytes 2..9 are the immediate
        mov rsp, r8
        CHECK rax, 0x66, 6, "PUSH onto the next instruction"

        ; the same store, eight times in a loop: each time the new value
        mov ecx, 8
        xor r9d, r9d
.loop:  mov [rel .imm7 + 1], ecx
.imm7:  mov eax, 0
        add r9, rax
        dec ecx
        jnz .loop
        CHECK r9, 36, 7, "a store to the next instruction in a loop"

        ; the store first in its block (a jump target), timed: QEMU abandons the block it
        ; rewrote and runs the store again alone; each instruction retires once
        rdtsc
        mov r8d, eax
        jmp .s8
.s8:    mov byte [rel .imm8 + 1], 8
.imm8:  mov ecx, 1
        rdtsc
        sub eax, r8d                    ; RDTSC, MOV, JMP, the store, MOV ECX
        CHECK rax, 5, 8, "instructions retired across a store first in its block"
        CHECK rcx, 8, 9, "a store first in its block"

        ; an indirect CALL pushing its return address onto code that runs after it (bt's VMM
        ; makes that store itself); the first pass only has the code translated
        xor r9d, r9d
.again11:
        mov r8, rsp
        lea rsp, [rel .imm11 + 10]      ; the push writes MOV RAX's imm64
        lea rax, [rel .f11]
        test r9d, r9d
        jz .ret11
        call rax
.ret11: mov rsp, r8
.imm11: mov rax, 0x1111111111111111
        inc r9d
        cmp r9d, 2
        jb .again11
        lea rdx, [rel .ret11]
        CHECK rax, rdx, 11, "an indirect CALL's push onto code that runs next"

        ; the next instruction on the next page: the store is its page's last instruction
        jmp .cross
.f11:   ret
        align 4096
        times 4096 - 12 db 0x90
.cross: mov byte [rel .imm10 + 1], 10   ; 7 bytes (C6 05 disp32 imm8) ...
        xor eax, eax                    ; ... 2 bytes ...
        nop                             ; ... 1 byte ...
        nop                             ; ... 1 byte ...
        nop                             ; ... 1 byte: the page ends here
.imm10: mov eax, 1
        CHECK rax, 10, 12, "a store to the next instruction on the next page"
        PASS
