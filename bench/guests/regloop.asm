; Register-only loop: 5 instructions per iteration, one block.
%include "common.inc"
        mov rcx, 100000000
.loop:  add rax, rcx
        xor rbx, rax
        imul rdx, rbx, 3
        dec rcx
        jnz .loop
        FINISH
