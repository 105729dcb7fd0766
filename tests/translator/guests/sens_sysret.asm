; sens_sysret: SYSRET from guest kernel code (a callout under bt: the guest leaves the
; translated kernel for user code, which runs directly) and SYSCALL, both from user code and
; from the kernel itself (where bt translates it). RCX must hold the guest's next RIP, R11
; the guest's RFLAGS, and CS and SS come from the guest's STAR.
%define GUEST "sens_sysret"
%include "flat.inc"
%include "sens.inc"

MSR_STAR        equ 0xc0000081
MSR_LSTAR       equ 0xc0000082
MSR_FMASK       equ 0xc0000084
USER_FLAGS      equ RFLAGS_IF | 0x1 | 0x2 ; IF, CF

absolute GUEST_DATA
entry_rcx:      resq 1                  ; what the SYSCALL entry saw
entry_r11:      resq 1
entry_cs:       resq 1
entry_ss:       resq 1
entry_rflags:   resq 1
entries:        resq 1
section .text

start:
        call idt_init
        mov ecx, MSR_STAR
        xor eax, eax
        mov edx, (0x18 << 16) | KCODE   ; SYSRET base 0x18 (CS 0x2b, SS 0x23), SYSCALL CS 0x08
        wrmsr
        mov ecx, MSR_LSTAR
        mov eax, syscall_entry
        xor edx, edx
        wrmsr
        mov ecx, MSR_FMASK
        mov eax, RFLAGS_IF | 0x1        ; SYSCALL clears IF and CF
        xor edx, edx
        wrmsr

        ; SYSCALL from the kernel: CS and SS as STAR says, RCX the next guest RIP, R11 RFLAGS
        push qword RFLAGS_IOPL3 | 0x1 | 0x2
        popfq
        syscall
.k_back:
        CHECK [entries], 1, 1, "SYSCALL from the kernel: entries"
        CHECK [entry_rcx], .k_back, 2, "SYSCALL from the kernel: RCX"
        NOT_VMM [entry_rcx], 3, "SYSCALL from the kernel: RCX"
        CHECK [entry_r11], RFLAGS_IOPL3 | 0x1 | 0x2, 4, "SYSCALL from the kernel: R11"
        CHECK [entry_cs], KCODE, 5, "SYSCALL from the kernel: CS"
        CHECK [entry_ss], KDATA, 6, "SYSCALL from the kernel: SS"
        CHECK [entry_rflags], RFLAGS_IOPL3 | 0x2, 7, "SYSCALL from the kernel: RFLAGS (FMASK's bits cleared)"
        push qword 0x2
        popfq

        ; SYSRET to user code: RIP from RCX, RFLAGS from R11, CS and SS from STAR[63:48]
        mov rsp, USER_STACK_TOP
        mov rcx, user
        mov r11, USER_FLAGS
        o64 sysret
        FAIL 8, "SYSRET fell through"

user:
        CHECK_FLAGS RFLAGS_IF | 0x1, RFLAGS_IF | 0x1, 9, "RFLAGS after SYSRET (from R11)"
        mov rax, cs
        CHECK rax, UCODE, 10, "CS after SYSRET"
        mov rax, ss
        CHECK rax, UDATA, 11, "SS after SYSRET"
        CHECK rsp, USER_STACK_TOP, 12, "RSP after SYSRET"
        push qword USER_FLAGS           ; the CHECKs changed the arithmetic flags
        popfq
        syscall
.u_back:
        FAIL 13, "the user SYSCALL came back"

; the SYSCALL entry: the first call comes from the kernel (SYSRET would change CPL: return
; with a jump instead), the second from user code (the end of the test)
syscall_entry:
        mov [entry_rcx], rcx
        mov [entry_r11], r11
        mov rax, cs
        mov [entry_cs], rax
        mov rax, ss
        mov [entry_ss], rax
        pushfq
        pop qword [entry_rflags]
        inc qword [entries]
        cmp qword [entries], 1
        jne .from_user
        jmp rcx
.from_user:
        CHECK [entry_rcx], user.u_back, 14, "SYSCALL from user code: RCX"
        NOT_VMM [entry_rcx], 15, "SYSCALL from user code: RCX"
        CHECK [entry_r11], USER_FLAGS, 16, "SYSCALL from user code: R11"
        CHECK [entry_cs], KCODE, 17, "SYSCALL from user code: CS"
        CHECK [entry_rflags], 0x2, 18, "SYSCALL from user code: RFLAGS (IF and CF cleared)"
        CHECK [exc_count], 0, 19, "number of exceptions"
        PASS
