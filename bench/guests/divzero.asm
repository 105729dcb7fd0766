; 200,000 #DE, each delivered through the IDT and resumed past the 3-byte div.
%include "common.inc"
        GATE 0, de_handler, 0
        LOAD_IDT
        mov r12, 200000
.loop:  xor ecx, ecx
        mov eax, 1
        div ecx
        dec r12
        jnz .loop
        jmp done
de_handler:
        add qword [rsp], 2
        iretq
done:
        FINISH
