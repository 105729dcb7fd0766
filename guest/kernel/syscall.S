/* SYSCALL entry (docs/guest-kernel.md): RAX = number, RDI, RSI, RDX, R10, R8, R9 = arguments;
 * RCX = user RIP and R11 = user RFLAGS (saved by the CPU). SYSCALL does not switch stacks, so
 * the entry does, to the running process's kernel stack (syscall_stack_top), and saves the
 * user state there as a struct syscall_frame (kernel.h). System calls run with interrupts
 * enabled; the exit path disables them before SYSRET. */
        .text
        .global syscall_entry
syscall_entry:
        movq    %rsp, user_rsp(%rip)    /* interrupts are off (FMASK) until the frame is saved */
        movq    syscall_stack_top(%rip), %rsp
        pushq   user_rsp(%rip)
        pushq   %rcx
        pushq   %r11
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        pushq   %r9
        pushq   %r8
        pushq   %r10
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rax
        movq    %rsp, %rdi
        sti
        call    syscall_dispatch        /* returns with interrupts disabled */

/* Leaves to user mode with RAX as the result and the user state from the frame at RSP. Like
 * Linux, a system call preserves every register but RAX, RCX and R11. */
        .global syscall_exit
syscall_exit:
        addq    $8, %rsp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %r10
        popq    %r8
        popq    %r9
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        popq    %r11
        popq    %rcx
        popq    %rsp
        sysretq

        .data
        .balign 8
user_rsp:
        .quad   0

        .section .note.GNU-stack, "", @progbits
