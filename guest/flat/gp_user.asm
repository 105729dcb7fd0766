; gp_user: privileged instructions and bad segment loads at CPL3 raise #GP (vector 13)
; with the right error code; the frame is on the TSS.RSP0 stack, aligned down to
; 16 bytes, and holds the user CS/SS and the RIP of the faulting instruction.
%define GUEST "gp_user"
%include "flat.inc"

start:
        call idt_init
        USER_MODE user                  ; CPL3, IOPL 0, IF 0

user:
        ; CLI needs CPL <= IOPL
        EXPECT 13, .r1
.f1:    cli
        FAIL 1, "CLI at CPL3 did not fault"
.r1:    CHECK_EXC 2, 13, 0, .f1, "CLI at CPL3"
        CHECK_FROM_USER 3, "CLI at CPL3"

        ; selector 0x1233 (index 0x246, GDT, RPL 3) is beyond the GDT limit:
        ; #GP(selector & ~3)
        mov ax, 0x1233
        EXPECT 13, .r4
.f4:    mov ds, ax
        FAIL 4, "loading DS with 0x1233 did not fault"
.r4:    CHECK_EXC 5, 13, 0x1230, .f4, "MOV DS, 0x1233"
        CHECK_FROM_USER 6, "MOV DS, 0x1233"

        ; kernel data (DPL0) with RPL 3 from CPL3: DPL < max(CPL, RPL)
        mov ax, KDATA | 3
        EXPECT 13, .r7
.f7:    mov ds, ax
        FAIL 7, "loading DS with the DPL0 data segment at CPL3 did not fault"
.r7:    CHECK_EXC 8, 13, KDATA, .f7, "MOV DS, 0x13"
        CHECK_FROM_USER 9, "MOV DS, 0x13"

        ; The CPU reads RSP0 from the TSS on every CPL3->0 switch and aligns it down to
        ; 16 bytes.  (The TSS is in user-writable memory on this machine, so CPL3 can
        ; move RSP0 for the next fault.)
        mov qword [TSS_RSP0], RSP0_TOP - 8
        EXPECT 13, .r10
.f10:   mov rax, cr3
        FAIL 10, "MOV from CR3 at CPL3 did not fault"
.r10:   mov qword [TSS_RSP0], RSP0_TOP
        CHECK_EXC 11, 13, 0, .f10, "MOV RAX, CR3 at CPL3"
        CHECK [exc_frame], RSP0_TOP - 16 - 40, 12, "RSP0 = 0x7fff8: frame not aligned down to 16 bytes"
        CHECK [exc_cs], UCODE, 12, "MOV RAX, CR3 at CPL3: saved CS"

        EXPECT 13, .r13
.f13:   hlt
        FAIL 13, "HLT at CPL3 did not fault"
.r13:   CHECK_EXC 14, 13, 0, .f13, "HLT at CPL3"
        CHECK_FROM_USER 15, "HLT at CPL3"

        CHECK [exc_count], 5, 16, "number of #GPs"
        PASS
