; 20 innocuous instructions, then RET: units split at 12 instructions.
bits 64
org 0xffffffff80400000

    mov rax, rbx
    add rax, 1
    sub rcx, rdx
    xor edx, edx
    imul r8, r9, 12
    lea rsi, [rdi + rcx*8 + 16]
    mov [rsp + 8], rax
    movzx eax, byte [rsi]
    shl rax, 3
    test rax, rax
    cmovz rax, rbx
    push rbx
    pop rbx
    nop
    bswap eax
    inc qword [rdi]
    mov r15, 0x123456789abcdef0
    xchg rax, rcx
    cqo
    leave
    ret
