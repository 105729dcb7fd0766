; cli_exception_storm: the #PF gate (vector 14) uses IST1 and points at an instruction that
; itself page-faults (a read of 0xffffffffffffffc0, outside the 4 GiB identity map).  Every
; delivery reloads RSP from IST1, so the CPU delivers #PF forever without retiring an
; instruction, as real hardware would.  hvsim must still end the run under
; --max-instructions (and not hang, nor grow an event log without bound).
bits 64
org 0x100000

IDT     equ 0x20000

start:
        mov rdi, IDT + 14*16
        mov rax, handler
        mov word [rdi], ax              ; offset 15:0
        mov word [rdi+2], 0x08          ; kernel code
        mov byte [rdi+4], 1             ; IST1
        mov byte [rdi+5], 0x8e          ; present, DPL0, 64-bit interrupt gate
        shr rax, 16
        mov word [rdi+6], ax            ; offset 31:16
        shr rax, 16
        mov dword [rdi+8], eax          ; offset 63:32
        mov dword [rdi+12], 0
        lidt [idtr]
handler:
        mov rax, [0xffffffffffffffc0]   ; #PF, delivered to this very instruction
        jmp handler

idtr:   dw 0xfff
        dq IDT
