; syscall_loop: 100,000 SYSCALL/SYSRET round trips from CPL3.  SYSCALL saves RIP in RCX
; and RFLAGS in R11, clears the FMASK bits (IF here), loads CS/SS from STAR[47:32] and
; does not switch stacks; SYSRET (64-bit) returns to RCX with RFLAGS from R11 and
; CS/SS = STAR[63:48]+16 / +8, RPL 3.  The last syscall ends the run from CPL0.
%define GUEST "syscall_loop"
%include "flat.inc"

N               equ 100000
MSR_STAR        equ 0xc0000081
MSR_LSTAR       equ 0xc0000082
MSR_FMASK       equ 0xc0000084
SYS_COUNT       equ 0                   ; rax = 0: count
SYS_EXIT        equ 1                   ; rax = 1: print rsi, exit with status rdi

absolute GUEST_DATA
sys_count:      resq 1
section .text

start:
        call idt_init                   ; for FAIL from CPL3
        mov ecx, MSR_STAR
        xor eax, eax
        mov edx, (0x18 << 16) | KCODE   ; SYSRET base 0x18, SYSCALL CS 0x08
        wrmsr
        mov ecx, MSR_LSTAR
        mov eax, syscall_entry
        xor edx, edx
        wrmsr
        mov ecx, MSR_FMASK
        mov eax, RFLAGS_IF
        xor edx, edx
        wrmsr
        USER_MODE user, RFLAGS_IF | 2

user:
        mov r12d, N
.loop:  mov eax, SYS_COUNT
        syscall
.back:  CHECK rcx, .back, 1, "RCX after SYSRET"
        CHECK cs, UCODE, 2, "CS after SYSRET"
        CHECK ss, UDATA, 3, "SS after SYSRET"
        CHECK rsp, USER_STACK_TOP, 4, "RSP after SYSRET"
        pushfq
        pop rax
        and eax, RFLAGS_IF
        CHECK rax, RFLAGS_IF, 5, "IF after SYSRET (restored from R11)"
        dec r12d
        jnz .loop

        CHECK [sys_count], N, 6, "SYSCALL count"
        mov eax, SYS_EXIT
        xor edi, edi
        mov esi, pass_msg
        syscall
        FAIL 7, "returned from the exit syscall"

pass_msg:
        db "PASS ", GUEST, 0

syscall_entry:
        cmp eax, SYS_EXIT
        je .exit
        inc qword [sys_count]
        CHECK cs, KCODE, 10, "CS in the SYSCALL handler"
        CHECK ss, KDATA, 11, "SS in the SYSCALL handler"
        CHECK rcx, user.back, 12, "RCX (return RIP) in the SYSCALL handler"
        CHECK rsp, USER_STACK_TOP, 13, "RSP in the SYSCALL handler (no stack switch)"
        mov rax, r11
        and eax, RFLAGS_IF
        CHECK rax, RFLAGS_IF, 14, "R11 (user RFLAGS) in the SYSCALL handler"
        pushfq                          ; on the user stack: SYSCALL switched nothing
        pop rax
        and eax, RFLAGS_IF
        CHECK rax, 0, 15, "IF in the SYSCALL handler (FMASK)"
        o64 sysret
.exit:  xor ecx, ecx
        jmp flat_report_k
