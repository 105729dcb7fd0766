; secret_keeper: the victim of scenarios/isolation.toml. Writes a secret value at the start of
; every page of guest-physical [0x400000, 0x800000), stays alive (and keeps checking that the
; secret is intact) for a while so the other guest scans while it runs, then exits 0.
%define GUEST "secret_keeper"
%include "flat.inc"

FIRST   equ 0x400000
LAST    equ 0x800000
SECRET_NOT equ 0xa1b2c3d4e5f60718       ; the secret is its complement: never in the scanner's image

start:
        mov rax, SECRET_NOT
        not rax
        mov rdi, FIRST
.plant: mov [rdi], rax
        add rdi, 0x1000
        cmp rdi, LAST
        jb .plant
        PRINT "secret planted in 1024 pages", 10
        mov ebx, 200                    ; about 20 ms of virtual time, checking as it goes
.watch: mov rdi, FIRST
.check: CHECK [rdi], rax, 1, "secret changed by someone else"
        mov rax, SECRET_NOT
        not rax
        add rdi, 0x1000
        cmp rdi, LAST
        jb .check
        mov ecx, 20000
.spin:  dec ecx
        jnz .spin
        dec ebx
        jnz .watch
        PRINT "secret intact", 10
        PASS
