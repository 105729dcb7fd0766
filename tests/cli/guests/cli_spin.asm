; cli_spin: loops forever (a short jump to itself).  With --max-instructions N the run must
; end with the instruction-budget status 122, not hang.
bits 64
org 0x100000

start:
        jmp start
