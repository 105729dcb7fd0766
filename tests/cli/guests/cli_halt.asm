; cli_halt: halts with interrupts disabled and no timer armed; nothing can wake it, so
; hvsim must end the run with status 121 ("halted forever": HLT with interrupts disabled).
bits 64
org 0x100000

start:
        cli
        hlt
        ; not reached: a wrong wake-up exits with a status the test does not accept
        mov al, 99
        out 0xf4, al
        jmp $
