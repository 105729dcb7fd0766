; phys_scan: the attacker of scenarios/isolation.toml. Reads the first qword of every page of
; guest-physical [0, 256 MiB), far beyond its own RAM and the whole machine pool of a small
; host, through its identity map, looking for the other guest's secret. Its own marker, planted
; in its RAM, must be found exactly once (the scan works); the secret never (isolation holds).
; Every page outside its RAM is an isolation event for the VMM.
%define GUEST "phys_scan"
%include "flat.inc"

SCAN_END   equ 0x10000000
SECRET_NOT equ 0xa1b2c3d4e5f60718       ; the complement of the victim's secret
MARKER_NOT equ 0x0f1e2d3c4b5a6978
MY_PAGE    equ 0x900000

start:
        mov rax, MARKER_NOT
        not rax
        mov [MY_PAGE], rax
        mov r8, SECRET_NOT
        not r8                          ; r8 = the secret (in a register only)
        mov r9, rax                     ; r9 = our marker
        xor r10, r10                    ; pages holding the secret
        xor r11, r11                    ; pages holding our marker
        xor r12, r12                    ; pages that read all ones (nothing there)
        xor edi, edi
.scan:  mov rax, [rdi]
        cmp rax, r8
        jne .not_secret
        inc r10
        mov r13, rdi                    ; where
.not_secret:
        cmp rax, r9
        jne .not_marker
        inc r11
.not_marker:
        cmp rax, -1
        jne .next
        inc r12
.next:  add rdi, 0x1000
        cmp rdi, SCAN_END
        jb .scan
        PRINT "scanned 65536 pages"
        PRINT ", empty: "
        mov rax, r12
        call putdec
        call putnl
        CHECK r11, 1, 1, "our own marker found exactly once"
        CHECK r10, 0, 2, "the other guest's secret was readable"
        PASS
