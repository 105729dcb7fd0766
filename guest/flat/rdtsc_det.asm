; rdtsc_det: RDTSC returns virtual time, so it is deterministic: the test runs the guest
; twice and compares the printed values.  In the guest: the values increase, and a
; loop of 2 * WORK instructions with nothing else in between advances the TSC by at
; least WORK (virtual time is retired instructions at 1 GHz).
%define GUEST "rdtsc_det"
%include "flat.inc"

SAMPLES equ 8
WORK    equ 1000

%macro TSC_TO 1                         ; %1 <- TSC (clobbers rax, rdx)
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov %1, rax
%endmacro

start:
        xor r12d, r12d                  ; previous sample
        xor ebx, ebx
.sample:
        TSC_TO r13
        cmp r13, r12
        ja .up
        mov rax, r13
        mov rdx, r12
        FAILV 1, "RDTSC did not increase (got now, expected more than before)"
.up:    PRINT "tsc "
        mov rax, rbx
        call putdec
        PRINT ": 0x"
        mov rax, r13
        call puthex
        call putnl
        mov r12, r13

        TSC_TO r14
        mov ecx, WORK
.work:  dec ecx
        jnz .work
        TSC_TO r15
        sub r15, r14
        cmp r15, WORK
        jae .advanced
        mov rax, r15
        mov edx, WORK
        FAILV 2, "TSC advanced less than WORK over 2*WORK instructions"
.advanced:
        inc ebx
        cmp ebx, SAMPLES
        jb .sample
        PASS
