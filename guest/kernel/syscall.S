/* SYSCALL entry (docs/guest-kernel.md): RAX = number, RDI, RSI, RDX, R10, R8, R9 = arguments;
 * RCX = user RIP and R11 = user RFLAGS (saved by the CPU). SYSCALL does not switch stacks, so
 * the entry does: one CPU, one kernel stack for system calls. */
        .text
        .global syscall_entry
syscall_entry:
        movq    %rsp, user_rsp(%rip)
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
        /* struct syscall_args { nr, a0..a5 } on the stack */
        pushq   %r9
        pushq   %r8
        pushq   %r10
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rax
        movq    %rsp, %rdi
        call    syscall_dispatch
        /* Like Linux, a system call preserves every register but RAX, RCX and R11. */
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

        .global enter_user
/* enter_user(rip, rsp, argc, argv): first entry of a process into CPL3, by IRETQ, with
 * main's arguments in RDI and RSI. */
enter_user:
        pushq   $0x23           /* SS: user data, RPL 3 */
        pushq   %rsi            /* RSP */
        pushq   $0x202          /* RFLAGS: IF */
        pushq   $0x2b           /* CS: user code64, RPL 3 */
        pushq   %rdi            /* RIP */
        movq    %rdx, %rdi      /* argc */
        movq    %rcx, %rsi      /* argv */
        xorl    %eax, %eax
        xorl    %ebx, %ebx
        xorl    %ecx, %ecx
        xorl    %edx, %edx
        xorl    %ebp, %ebp
        xorl    %r8d, %r8d
        xorl    %r9d, %r9d
        xorl    %r10d, %r10d
        xorl    %r11d, %r11d
        xorl    %r12d, %r12d
        xorl    %r13d, %r13d
        xorl    %r14d, %r14d
        xorl    %r15d, %r15d
        iretq

        .data
        .balign 8
user_rsp:
        .quad   0

        .section .note.GNU-stack, "", @progbits
