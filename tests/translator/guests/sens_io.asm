; sens_io: IN, OUT, INS and OUTS (with and without REP) in guest kernel code: port I/O goes
; to the virtual devices (COM1's line status reads 0x60, unclaimed ports all ones, bytes
; written to COM1 are the console, which the test compares with native's), with the sizes,
; counts and index registers the guest gave.
%define GUEST "sens_io"
%include "flat.inc"
%include "sens.inc"

UNCLAIMED       equ 0x80

absolute GUEST_DATA
inbuf:          resb 64
section .text

start:
        call idt_init

        ; IN: sizes, immediate and DX forms; only the accumulator's low part changes
        mov rax, 0x1122334455667788
        mov dx, COM1_LSR
        in al, dx
        mov rdx, 0x1122334455667760
        CHECK rax, rdx, 1, "IN AL, DX from COM1's LSR"
        mov rax, 0x1122334455667788
        in al, UNCLAIMED
        mov rdx, 0x11223344556677ff
        CHECK rax, rdx, 2, "IN AL, imm8 from an unclaimed port"
        mov rax, 0x1122334455667788
        in ax, UNCLAIMED
        mov rdx, 0x112233445566ffff
        CHECK rax, rdx, 3, "IN AX, imm8 from an unclaimed port"
        mov rax, 0x1122334455667788
        mov dx, UNCLAIMED
        in eax, dx
        CHECK rax, 0xffffffff, 4, "IN EAX, DX from an unclaimed port (upper half cleared)"

        ; OUT: a line on the console
        mov dx, COM1
        mov al, 'o'
        out dx, al
        mov al, 'k'
        out dx, al
        mov al, 10
        out dx, al

        ; REP OUTSB: the string, RSI past it, RCX 0
        mov esi, message
        mov ecx, message_len
        mov dx, COM1
        rep outsb
        CHECK rsi, message + message_len, 5, "RSI after REP OUTSB"
        CHECK rcx, 0, 6, "RCX after REP OUTSB"
        ; OUTSB without REP: one byte
        mov esi, newline
        mov dx, COM1                    ; (CHECK clobbers RDX)
        outsb
        CHECK rsi, newline + 1, 7, "RSI after OUTSB"

        ; REP INSB from the LSR: four 0x60 bytes, RDI past them; INSW from an unclaimed port
        mov qword [inbuf], 0
        mov edi, inbuf
        mov ecx, 4
        mov dx, COM1_LSR
        rep insb
        CHECK [inbuf], 0x60606060, 8, "REP INSB from COM1's LSR: the bytes"
        CHECK rdi, inbuf + 4, 9, "RDI after REP INSB"
        CHECK rcx, 0, 10, "RCX after REP INSB"
        mov dx, UNCLAIMED
        insw
        CHECK [inbuf], 0xffff60606060, 11, "INSW from an unclaimed port"
        CHECK rdi, inbuf + 6, 12, "RDI after INSW"

        ; with DF set the index registers count down
        std
        mov qword [inbuf + 8], 0
        mov edi, inbuf + 11
        mov ecx, 2
        mov dx, COM1_LSR
        rep insb
        cld
        CHECK [inbuf + 8], 0x60600000, 13, "REP INSB with DF set: the bytes"
        CHECK rdi, inbuf + 9, 14, "RDI after REP INSB with DF set"

        ; INS to an address the guest cannot write: #PF at the INS, CR2 the guest's address
        mov rdi, 0x200000000
        mov dx, COM1_LSR
        EXPECT 14, .r15
.f15:   insb
        FAIL 15, "INSB to an unmapped address did not fault"
.r15:   CHECK [exc_rip], .f15, 16, "INSB #PF: saved RIP"
        NOT_VMM [exc_rip], 17, "INSB #PF: saved RIP"
        CHECK [exc_err], 2, 18, "INSB #PF: error code (write, not present)"
        mov rdx, 0x200000000
        CHECK [exc_cr2], rdx, 19, "INSB #PF: CR2"
        CHECK [exc_count], 1, 20, "number of exceptions"
        PASS

message:        db "sens_io: rep outsb to COM1"
message_len     equ $ - message
newline:        db 10
