; de_loop: 100,000 divide errors (#DE, vector 0), each delivered through the IDT and
; resumed after the DIV.  #DE is a fault: the saved RIP points at the DIV itself and
; RDX:RAX are left as they were.  Half the DIVs are the 2-byte `div ebx`, half the
; 3-byte `div rbx`, so the handler has to look at the instruction to skip it.
; Afterwards a quotient overflow (DIV and IDIV) must raise #DE as well.
%define GUEST "de_loop"
%include "flat.inc"

N equ 100000

absolute GUEST_DATA
de_count:       resq 1
section .text

start:
        call idt_init
        SET_GATE 0, de_handler
        mov r12, rsp                    ; every IRETQ must bring RSP back here
        xor ebx, ebx                    ; the divisor
        mov ecx, N / 2
.loop:  mov eax, 0x1234
        mov edx, 0x5678
        div ebx
        cmp eax, 0x1234
        jne .clobbered
        cmp edx, 0x5678
        jne .clobbered
        div rbx
        cmp rax, 0x1234
        jne .clobbered
        cmp rdx, 0x5678
        jne .clobbered
        dec ecx
        jnz .loop

        CHECK [de_count], N, 2, "#DE count"
        CHECK rsp, r12, 3, "RSP after 100000 IRETQs"

        ; quotient 2^32 does not fit in EAX
        mov edx, 1
        xor eax, eax
        mov ebx, 1
        div ebx
        CHECK [de_count], N + 1, 4, "DIV quotient overflow did not raise #DE"
        ; INT64_MIN / -1 does not fit either
        mov rax, 0x8000000000000000
        cqo
        mov rbx, -1
        idiv rbx
        CHECK [de_count], N + 2, 5, "IDIV INT64_MIN/-1 did not raise #DE"
        PASS

.clobbered:
        FAIL 1, "a faulting DIV changed RDX:RAX"

de_handler:
        inc qword [de_count]
        push rax
        mov rax, [rsp + 8]              ; saved RIP
        cmp byte [rax], 0x48            ; REX.W: div/idiv r64
        je .rex
        cmp byte [rax], 0xf7
        jne .bad
        add qword [rsp + 8], 2
        pop rax
        iretq
.rex:   cmp byte [rax + 1], 0xf7
        jne .bad
        add qword [rsp + 8], 3
        pop rax
        iretq
.bad:   FAIL 6, "#DE saved RIP does not point at the DIV"
