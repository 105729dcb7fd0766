; 200,000 SYSCALL/SYSRET round trips from CPL3.
%include "common.inc"
        mov ecx, 0xc0000081             ; STAR: kernel CS 0x08, user base 0x18
        mov edx, 0x00180008
        xor eax, eax
        wrmsr
        mov ecx, 0xc0000082             ; LSTAR
        mov rax, entry
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, 0xc0000084             ; FMASK: clear IF
        mov eax, 0x200
        xor edx, edx
        wrmsr
        ; to CPL3 by IRETQ
        push 0x23
        push 0x60000
        push 0x2
        push 0x2b
        push user
        iretq
user:   mov r12, 200000
.loop:  syscall
        dec r12
        jnz .loop
        mov r13, 1                      ; ask the kernel side to finish
        syscall
entry:  test r13, r13
        jnz done
        o64 sysret
done:
        FINISH
