; sens_cpuid_time: CPUID, RDTSC and RDTSCP in guest kernel code. CPUID is unprivileged: the
; guest must see the virtual CPU's leaves, the same under every engine (its answers are
; folded into R15, which the test compares with native's). RDTSC and RDTSCP read virtual
; time: it increases with retired guest instructions only (the VMM's own instructions in
; the cache do not count), and RDTSCP's ECX is the guest's TSC_AUX.
%define GUEST "sens_cpuid_time"
%include "flat.inc"
%include "sens.inc"

MSR_TSC         equ 0x10
MSR_TSC_AUX     equ 0xc0000103

; FOLD: r15 = r15 * 31 + eax, ebx, ecx, edx (a checksum of CPUID's answers)
%macro FOLD 0
  %assign i 0
  %rep 4
    %if i == 0
        mov r14d, eax
    %elif i == 1
        mov r14d, ebx
    %elif i == 2
        mov r14d, ecx
    %else
        mov r14d, edx
    %endif
        imul r15, r15, 31
        add r15, r14
    %assign i i + 1
  %endrep
%endmacro

; TSC: r = EDX:EAX of RDTSC
%macro TSC 1
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov %1, rax
%endmacro

section .text

start:
        call idt_init

        ; CPUID leaf 0: the highest leaf and the vendor; the same answer twice
        xor r15d, r15d
        xor eax, eax
        mov rbx, -1
        mov rcx, -1
        mov rdx, -1
        cpuid
        mov r8, rax
        mov r9, rbx
        mov r10, rcx
        mov r11, rdx
        FOLD
        cmp r8, 1
        jae .leaf0_ok
        FAIL 1, "CPUID 0: no leaf 1"
.leaf0_ok:
        mov rax, r9
        or rax, r10
        or rax, r11
        shr rax, 32
        CHECK rax, 0, 2, "CPUID 0: upper halves of RBX, RCX, RDX not cleared"
        test r9, r9
        jnz .vendor_ok
        FAIL 3, "CPUID 0: no vendor in EBX"
.vendor_ok:
        xor eax, eax
        cpuid
        CHECK rbx, r9, 4, "CPUID 0 twice: EBX"
        CHECK rcx, r10, 5, "CPUID 0 twice: ECX"

        ; leaf 1: long-mode features the guest runs with (APIC, TSC, MSR, PAE)
        mov eax, 1
        cpuid
        FOLD
        mov r12, rdx
        and r12d, (1 << 4) | (1 << 5) | (1 << 6) | (1 << 9)
        CHECK r12, (1 << 4) | (1 << 5) | (1 << 6) | (1 << 9), 6, "CPUID 1: EDX TSC, MSR, PAE, APIC"
        ; leaves 7 and 0x80000000-1 (long mode, SYSCALL, NX; the model does not list RDTSCP,
        ; which the VMM emulates all the same)
        mov eax, 7
        xor ecx, ecx
        cpuid
        FOLD
        mov eax, 0x80000000
        cpuid
        FOLD
        mov eax, 0x80000001
        cpuid
        FOLD
        mov r12, rdx
        and r12d, (1 << 11) | (1 << 20) | (1 << 29)
        CHECK r12, (1 << 11) | (1 << 20) | (1 << 29), 7, "CPUID 0x80000001: EDX SYSCALL, NX, LM"

        ; RDTSC: EDX:EAX with the upper halves clear, increasing, by what the guest retired
        mov rax, -1
        mov rdx, -1
        rdtsc
        mov r8, rax
        or r8, rdx
        shr r8, 32
        CHECK r8, 0, 8, "RDTSC: upper halves of RAX and RDX not cleared"
        TSC r8
        nop
        nop
        TSC r9
        TSC r10
        cmp r9, r8
        ja .inc1
        mov rax, r9
        mov rdx, r8
        FAILV 9, "RDTSC did not increase"
.inc1:  mov r13, r9
        sub r13, r8
        ; one tick per retired instruction (docs/flat-guests.md): RDTSC's SHL, OR, MOV, two
        ; NOPs and the next RDTSC
        CHECK r13, 6, 10, "RDTSC: ticks between two reads 6 instructions apart"
        mov rax, r10
        sub rax, r9
        mov rdx, r13
        sub rdx, 2                      ; the two NOPs fewer
        CHECK rax, rdx, 11, "RDTSC: the ticks between reads follow the instructions retired"

        ; across branches, whose translations end in exit stubs and callouts (the VMM's, not
        ; retired): CALL, RET and JMP are one tick each
        TSC r8
        call .ret
        jmp .jmp
.ret:   ret
.jmp:   TSC r9
        sub r9, r8
        CHECK r9, 7, 16, "RDTSC: ticks across CALL, RET and JMP (4 + 3 instructions)"

        ; RDTSCP: the same clock, and ECX = TSC_AUX
        mov ecx, MSR_TSC_AUX
        mov eax, 0x5a
        xor edx, edx
        wrmsr
        TSC r8
        mov rcx, -1
        rdtscp
        CHECK rcx, 0x5a, 12, "RDTSCP: ECX = TSC_AUX (upper half clear)"
        shl rdx, 32
        or rax, rdx
        cmp rax, r8
        ja .inc2
        mov rdx, r8
        FAILV 13, "RDTSCP did not increase past RDTSC"
.inc2:
        ; RDMSR of IA32_TSC: the same clock again
        TSC r8
        mov ecx, MSR_TSC
        rdmsr
        shl rdx, 32
        or rax, rdx
        cmp rax, r8
        ja .inc3
        mov rdx, r8
        FAILV 14, "RDMSR IA32_TSC did not increase past RDTSC"
.inc3:
        CHECK [exc_count], 0, 15, "number of exceptions"
        PASS
