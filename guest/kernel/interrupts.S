/* Interrupt and exception entry: one routine per vector pushes a dummy error code where the CPU
 * pushes none, then the vector, saves the general registers and calls interrupt_dispatch
 * with a pointer to the frame (struct interrupt_frame in kernel.h). */
        .altmacro
        .text

.macro isr_stub n
        .balign 16
isr_\n:
  .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
  .else
        pushq   $0
  .endif
        pushq   $\n
        jmp     isr_common
.endm

.set vec, 0
.rept 256
        isr_stub %vec
        .set vec, vec + 1
.endr

isr_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, %rdi
        cld
        call    interrupt_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp
        iretq

.macro isr_address n
        .quad   isr_\n
.endm
        .section .rodata
        .balign 8
        .global isr_table
isr_table:
.set vec, 0
.rept 256
        isr_address %vec
        .set vec, vec + 1
.endr

        .section .note.GNU-stack, "", @progbits
