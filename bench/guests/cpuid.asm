; CPUID in a loop: under vtx every one is a VM exit (reason 10). 6 instructions per iteration.
%include "common.inc"
        mov esi, 200000
.loop:  xor eax, eax
        xor ecx, ecx
        cpuid
        dec esi
        jnz .loop
        FINISH
