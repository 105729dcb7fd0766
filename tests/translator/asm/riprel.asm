; RIP-relative operands in a kernel linked at 0xffffffff80000000: the translation must
; reach the same guest addresses from the translation cache.
bits 64
org 0xffffffff80300000

    mov rax, [rel data]
    lea rbx, [rel data + 8]
    add dword [rel data], 5        ; an immediate after the displacement
    cmp byte [rel data + 3], 1
    movdqu xmm0, [rel data]
    push qword [rel data]
    mov qword [rel data - 0x1000000], 7   ; 16 MiB below: still within reach
    ret

align 64, db 0xcc
data: times 32 db 0
