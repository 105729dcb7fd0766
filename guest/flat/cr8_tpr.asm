; cr8_tpr: CR8 is the task-priority register: every value 0..15 written at CPL0 reads
; back; setting a reserved bit (63:4) is #GP(0) and leaves CR8 alone; MOV from or to
; CR8 at CPL3 is #GP(0).  (KVM faults on the reserved bit as the SDM says; QEMU's TCG
; does not.)
%define GUEST "cr8_tpr"
%include "flat.inc"

start:
        call idt_init
        SET_GATE 0x80, back_in_kernel, 3

        xor ebx, ebx
.loop:  mov cr8, rbx
        mov rcx, cr8
        CHECK rcx, rbx, 1, "CR8 read back"
        inc ebx
        cmp ebx, 16
        jb .loop

        mov eax, 5
        mov cr8, rax
        mov eax, 16
        EXPECT 13, .r2
.f2:    mov cr8, rax
        FAIL 2, "MOV CR8 with bit 4 set did not fault"
.r2:    CHECK_EXC 3, 13, 0, .f2, "MOV CR8 with bit 4 set"
        CHECK cr8, 5, 4, "CR8 after a faulting write"

        USER_MODE user

user:
        EXPECT 13, .r5
.f5:    mov rax, cr8
        FAIL 5, "MOV from CR8 at CPL3 did not fault"
.r5:    CHECK_EXC 6, 13, 0, .f5, "MOV from CR8 at CPL3"
        CHECK_FROM_USER 6, "MOV from CR8 at CPL3"

        xor eax, eax
        EXPECT 13, .r7
.f7:    mov cr8, rax
        FAIL 7, "MOV to CR8 at CPL3 did not fault"
.r7:    CHECK_EXC 8, 13, 0, .f7, "MOV to CR8 at CPL3"

        int 0x80

back_in_kernel:
        CHECK cr8, 5, 9, "CR8 after the faulting CPL3 accesses"
        PASS
