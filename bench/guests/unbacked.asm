; Loads from 65536 distinct pages beyond guest RAM (64 MiB .. 320 MiB), twice: every load is a
; TLB fill that finds nothing behind the guest-physical address (an EPT violation under EPT,
; an isolation event under every mode).
%include "common.inc"
        mov ebx, 2
.pass:  mov rsi, 0x4000000
.loop:  add rax, [rsi]
        add rsi, 4096
        cmp rsi, 0x14000000
        jb .loop
        dec ebx
        jnz .pass
        FINISH
