; Indirect-branch loop: a call through a register, a return and a jump through a register per
; iteration, 6 instructions. Under bt each is an in-cache lookup of the target.
%include "common.inc"
        mov rcx, 20000000
        lea rbx, [rel leaf]
        lea rsi, [rel .next]
.loop:  call rbx
        jmp rsi
.next:  dec rcx
        jnz .loop
        FINISH
leaf:   add rax, 1
        ret
