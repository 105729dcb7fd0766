; One 8-byte load every 64 bytes over 16 MiB (at 16 MiB), 5 instructions per iteration.
%include "common.inc"
        mov rcx, 50000000
        mov rsi, 0x1000000
        xor edx, edx
.loop:  add rax, [rsi + rdx]
        add rdx, 64
        and rdx, 0xffffff
        dec rcx
        jnz .loop
        FINISH
