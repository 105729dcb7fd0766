; 500,000 RDTSC, each a trap point emulated by the native hardware model.
%include "common.inc"
        mov rcx, 500000
.loop:  rdtsc
        dec rcx
        jnz .loop
        FINISH
