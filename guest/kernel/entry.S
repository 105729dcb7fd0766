/* Kernel entry (docs/boot-protocol.md): 64-bit mode, CPL 0, interrupts off, RDI = physical
 * address of the boot info. Switch to the kernel's own stack and call kmain. */
        .section .text.entry, "ax"
        .global _start
_start:
        lea     boot_stack_top(%rip), %rsp
        xor     %ebp, %ebp
        call    kmain
1:      cli
        hlt
        jmp     1b

        .section .bss
        .balign 16
boot_stack:
        .skip   16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
