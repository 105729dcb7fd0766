; sens_msr: RDMSR, WRMSR and SWAPGS in guest kernel code. MSRs are privileged: the guest
; reads back the values it wrote, the CPU uses them (FS and GS bases), SWAPGS exchanges the
; guest's GS base with its KERNEL_GS_BASE, and an MSR that does not exist is #GP(0) at the
; instruction.
%define GUEST "sens_msr"
%include "flat.inc"
%include "sens.inc"

MSR_APIC_BASE   equ 0x1b
MSR_EFER        equ 0xc0000080
MSR_STAR        equ 0xc0000081
MSR_LSTAR       equ 0xc0000082
MSR_FMASK       equ 0xc0000084
MSR_FS_BASE     equ 0xc0000100
MSR_GS_BASE     equ 0xc0000101
MSR_KGS_BASE    equ 0xc0000102
MSR_TSC_AUX     equ 0xc0000103
BASE_A          equ SCRATCH + 0x6000
BASE_B          equ SCRATCH + 0x7000
MAGIC_A         equ 0xaaaa0000aaaa0001
MAGIC_B         equ 0xbbbb0000bbbb0002

; WRMSR64 msr, value: write a 64-bit value (clobbers rax, rcx, rdx)
%macro WRMSR64 2
        mov ecx, %1
        mov rax, %2
        mov rdx, rax
        shr rdx, 32
        wrmsr
%endmacro

; RDMSR_CHECK msr, expected, status, "what": RDMSR returns expected in EDX:EAX with the
; upper halves of RAX and RDX clear (status + 1)
%macro RDMSR_CHECK 4+
        mov ecx, %1
        mov rax, -1
        mov rdx, -1
        rdmsr
        mov r8, rax
        mov r9, rdx
        shl rdx, 32
        or rax, rdx
        mov r10, %2
        CHECK rax, r10, %3, %4
        mov rax, r8
        or rax, r9
        shr rax, 32
        CHECK rax, 0, %3 + 1, %4, ": upper halves of RAX and RDX"
%endmacro

section .text

start:
        call idt_init

        RDMSR_CHECK MSR_EFER, 0xd01, 1, "RDMSR EFER (SCE, LME, LMA, NXE)"
        RDMSR_CHECK MSR_APIC_BASE, 0xfee00900, 3, "RDMSR APIC_BASE"

        ; what the guest writes, it reads
        WRMSR64 MSR_LSTAR, 0xffffffff80123456
        RDMSR_CHECK MSR_LSTAR, 0xffffffff80123456, 5, "RDMSR LSTAR after WRMSR"
        WRMSR64 MSR_STAR, 0x0023001000080000
        RDMSR_CHECK MSR_STAR, 0x0023001000080000, 7, "RDMSR STAR after WRMSR"
        WRMSR64 MSR_FMASK, 0x47700
        RDMSR_CHECK MSR_FMASK, 0x47700, 9, "RDMSR FMASK after WRMSR"
        WRMSR64 MSR_TSC_AUX, 0x42
        RDMSR_CHECK MSR_TSC_AUX, 0x42, 11, "RDMSR TSC_AUX after WRMSR"

        ; FS and GS bases: the CPU uses what the guest wrote
        mov rax, MAGIC_A
        mov [BASE_A], rax
        mov rax, MAGIC_B
        mov [BASE_B], rax
        WRMSR64 MSR_FS_BASE, BASE_A
        RDMSR_CHECK MSR_FS_BASE, BASE_A, 13, "RDMSR FS_BASE after WRMSR"
        mov rax, [fs:0]
        mov rdx, MAGIC_A
        CHECK rax, rdx, 15, "a load through FS after WRMSR FS_BASE"
        WRMSR64 MSR_FS_BASE, 0

        ; SWAPGS exchanges GS_BASE and KERNEL_GS_BASE
        WRMSR64 MSR_GS_BASE, BASE_A
        WRMSR64 MSR_KGS_BASE, BASE_B
        swapgs
        RDMSR_CHECK MSR_GS_BASE, BASE_B, 16, "RDMSR GS_BASE after SWAPGS"
        RDMSR_CHECK MSR_KGS_BASE, BASE_A, 18, "RDMSR KERNEL_GS_BASE after SWAPGS"
        mov rax, [gs:0]
        mov rdx, MAGIC_B
        CHECK rax, rdx, 20, "a load through GS after SWAPGS"
        swapgs
        RDMSR_CHECK MSR_GS_BASE, BASE_A, 21, "RDMSR GS_BASE after the second SWAPGS"
        mov rax, [gs:0]
        mov rdx, MAGIC_A
        CHECK rax, rdx, 23, "a load through GS after the second SWAPGS"

        ; an MSR that does not exist: #GP(0) at the RDMSR or WRMSR, nothing changed
        mov ecx, 0x12345
        mov rax, 0x77
        mov rdx, 0x88
        EXPECT 13, .r24
.f24:   rdmsr
        FAIL 24, "RDMSR 0x12345 did not fault"
.r24:   CHECK [exc_rip], .f24, 25, "RDMSR #GP: saved RIP"
        NOT_VMM [exc_rip], 26, "RDMSR #GP: saved RIP"
        CHECK [exc_err], 0, 27, "RDMSR #GP: error code"
        mov ecx, 0x12345
        EXPECT 13, .r28
.f28:   wrmsr
        FAIL 28, "WRMSR 0x12345 did not fault"
.r28:   CHECK [exc_rip], .f28, 29, "WRMSR #GP: saved RIP"
        ; a non-canonical LSTAR: #GP(0), LSTAR unchanged
        mov ecx, MSR_LSTAR
        xor eax, eax
        mov edx, 0x00008000
        EXPECT 13, .r30
.f30:   wrmsr
        FAIL 30, "WRMSR of a non-canonical LSTAR did not fault"
.r30:   CHECK [exc_rip], .f30, 31, "WRMSR LSTAR #GP: saved RIP"
        RDMSR_CHECK MSR_LSTAR, 0xffffffff80123456, 32, "RDMSR LSTAR after the faulting WRMSR"

        WRMSR64 MSR_GS_BASE, 0
        WRMSR64 MSR_KGS_BASE, 0
        CHECK [exc_count], 3, 34, "number of exceptions"
        PASS
