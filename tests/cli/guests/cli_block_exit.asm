; cli_block_exit: one straight-line basic block that ends the run through the debug-exit
; port with status 5 after 22 instructions.  `--max-instructions 10` must stop it first
; (status 122): the budget counts instructions, not translation blocks.
bits 64
org 0x100000

start:
        mov al, 5
        times 20 nop
        out 0xf4, al
        jmp $
