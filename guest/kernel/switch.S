/* Context switch between processes' kernel stacks: switch_to(&save_sp, new_sp) saves the
 * callee-saved registers on the current stack, stores its RSP, and resumes the other stack
 * where it last called switch_to (or, for a new process, in process_first_return). */
        .text
        .global switch_to
switch_to:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

/* A new process (first program, fork's child, and after exec) starts here with its
 * struct syscall_frame at RSP: it leaves through the system-call exit path, RAX = 0. */
        .global process_first_return
process_first_return:
        xorl    %eax, %eax
        jmp     syscall_exit

        .section .note.GNU-stack, "", @progbits
