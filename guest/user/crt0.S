/* Program entry: the stack is 16-byte aligned at the top; call main, exit with its result. */
        .section .text.entry, "ax"
        .global _start
_start:
        xorl    %ebp, %ebp      /* RDI = argc, RSI = argv, set by the kernel */
        andq    $-16, %rsp
        call    main
        movl    %eax, %edi
        call    exit
1:      jmp     1b
        .section .note.GNU-stack, "", @progbits
