; One 8-byte load per 4 KiB page over 32 MiB (8192 pages, at 16 MiB), again and again: far more
; pages than the TLB holds, so nearly every load is a TLB fill. 5 instructions per iteration.
%include "common.inc"
        mov rcx, 4000000
        mov rsi, 0x1000000
        xor edx, edx
.loop:  add rax, [rsi + rdx]
        add rdx, 4096
        and rdx, 0x1ffffff
        dec rcx
        jnz .loop
        FINISH
