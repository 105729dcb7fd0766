; sens_misc: INVLPG, WBINVD, RDRAND, RDSEED and PAUSE in guest kernel code. INVLPG must reach
; the VMM's shadow page tables (a page the guest remapped reads its new frame after it);
; WBINVD changes nothing the guest can see; RDRAND and RDSEED are the VMM's seeded values
; (deterministic, so R12 and R13 end equal to native's) with CF set; PAUSE is a hint.
%define GUEST "sens_misc"
%include "flat.inc"
%include "sens.inc"

PT              equ SCRATCH + 0x8000    ; a page table of the guest's
FRAME_A         equ SCRATCH + 0x9000
FRAME_B         equ SCRATCH + 0xa000
WINDOW          equ 0x6000000           ; 96 MiB: PD0 entry 48, beyond RAM in the boot map
PD0             equ 0x3000
MAGIC_A         equ 0xa1a1a1a1a1a1a1a1
MAGIC_B         equ 0xb2b2b2b2b2b2b2b2

section .text

start:
        call idt_init

        ; INVLPG: WINDOW maps FRAME_A through a 4 KiB page table; the guest points the PTE
        ; at FRAME_B and invalidates the page: the next load sees FRAME_B
        mov rax, MAGIC_A
        mov [FRAME_A], rax
        mov rax, MAGIC_B
        mov [FRAME_B], rax
        xor ecx, ecx
.zero:  mov qword [PT + rcx], 0
        add ecx, 8
        cmp ecx, 4096
        jb .zero
        mov qword [PT], FRAME_A | 0x3
        mov qword [PD0 + (WINDOW >> 21) * 8], PT | 0x3
        mov rax, cr3                    ; the PDE changed: flush everything once
        mov cr3, rax
        mov rax, [WINDOW]
        mov rdx, MAGIC_A
        CHECK rax, rdx, 1, "load through the guest's new page table"
        mov qword [PT], FRAME_B | 0x3
        invlpg [WINDOW]
        mov rax, [WINDOW]
        mov rdx, MAGIC_B
        CHECK rax, rdx, 2, "load after the PTE changed and INVLPG"
        ; unmapped and invalidated: #PF with the guest's CR2 and RIP
        mov qword [PT], 0
        mov rbx, WINDOW + 8
        invlpg [rbx]
        EXPECT 14, .r3
.f3:    mov rax, [rbx]
        FAIL 3, "load from a page unmapped and INVLPG'd did not fault"
.r3:    CHECK [exc_rip], .f3, 4, "#PF after INVLPG: saved RIP"
        CHECK [exc_err], 0, 5, "#PF after INVLPG: error code"
        CHECK [exc_cr2], WINDOW + 8, 6, "#PF after INVLPG: CR2"
        mov qword [PD0 + (WINDOW >> 21) * 8], (WINDOW | 0x87)
        mov rax, cr3
        mov cr3, rax

        ; WBINVD: registers and memory as they were
        mov rax, 0x1234
        mov [GUEST_DATA], rax
        mov rbx, rsp
        wbinvd
        CHECK rax, 0x1234, 7, "RAX after WBINVD"
        CHECK rsp, rbx, 8, "RSP after WBINVD"
        CHECK [GUEST_DATA], 0x1234, 9, "memory after WBINVD"

        ; RDRAND, RDSEED: CF = 1, 64-bit and 32-bit destinations
        push qword 0x2
        popfq
        rdrand r12
        setc al
        movzx eax, al
        CHECK rax, 1, 10, "RDRAND r64: CF"
        mov rbx, -1
        rdrand ebx
        setc al
        movzx eax, al
        CHECK rax, 1, 11, "RDRAND r32: CF"
        mov rax, rbx
        shr rax, 32
        CHECK rax, 0, 12, "RDRAND r32: upper half cleared"
        rdrand rcx
        cmp rcx, r12
        jne .rdrand_differs
        mov rax, rcx
        FAILV 16, "RDRAND gave the same value twice"
.rdrand_differs:
        rdseed r13
        setc al
        movzx eax, al
        CHECK rax, 1, 13, "RDSEED r64: CF"

        ; PAUSE: a loop that spins on it ends with the count it had
        mov ecx, 100
.spin:  pause
        dec ecx
        jnz .spin
        CHECK rcx, 0, 14, "PAUSE loop: RCX"
        CHECK [exc_count], 1, 15, "number of exceptions"
        PASS
