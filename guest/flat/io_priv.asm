; io_priv: port I/O at CPL3.  With IOPL=0 (< CPL) and no I/O permission bitmap in the
; TSS every IN/OUT is #GP(0) and nothing reaches the device (a debug-exit OUT that got
; through would end the run with status 0x55); POPFQ at CPL3 cannot raise IOPL.
; Re-entered with IOPL=3, the same IN/OUT work.
%define GUEST "io_priv"
%include "flat.inc"

start:
        call idt_init
        SET_GATE 0x80, phase2, 3
        USER_MODE user                  ; IOPL 0

user:
        mov dx, COM1
        mov al, '!'
        EXPECT 13, .r1
.f1:    out dx, al
        FAIL 1, "OUT to COM1 at CPL3 with IOPL 0 did not fault"
.r1:    CHECK_EXC 2, 13, 0, .f1, "OUT to COM1 at CPL3 with IOPL 0"
        CHECK_FROM_USER 2, "OUT to COM1 at CPL3 with IOPL 0"

        mov al, 0x55
        EXPECT 13, .r3
.f3:    out DEBUG_EXIT, al
        FAIL 3, "OUT to the debug-exit port at CPL3 with IOPL 0 did not fault"
.r3:    CHECK_EXC 4, 13, 0, .f3, "OUT imm8 at CPL3 with IOPL 0"

        mov dx, COM1_LSR
        EXPECT 13, .r5
.f5:    in al, dx
        FAIL 5, "IN from COM1 at CPL3 with IOPL 0 did not fault"
.r5:    CHECK_EXC 6, 13, 0, .f5, "IN at CPL3 with IOPL 0"

        mov eax, 0x3000
        EXPECT 13, .r7
.f7:    out TIMER_PERIOD, eax
        FAIL 7, "OUT dword at CPL3 with IOPL 0 did not fault"
.r7:    CHECK_EXC 8, 13, 0, .f7, "OUT dword at CPL3 with IOPL 0"

        pushfq
        or qword [rsp], RFLAGS_IOPL3
        popfq                           ; silently keeps IOPL at CPL > 0
        pushfq
        pop rax
        and eax, RFLAGS_IOPL3
        CHECK rax, 0, 9, "POPFQ at CPL3 changed IOPL"

        CHECK [exc_count], 4, 10, "number of #GPs"
        int 0x80

phase2:
        USER_MODE user_iopl3, RFLAGS_IOPL3 | 2

user_iopl3:
        mov dx, COM1_LSR
        in al, dx
        movzx eax, al
        CHECK rax, 0x60, 11, "COM1 LSR read at CPL3 with IOPL 3"
        PRINT "io_priv: OUT to COM1 from CPL3 with IOPL 3", 10
        PASS
