; int_dpl: software interrupts and the gate DPL.  INT n, INT3 and INT 3 from CPL3 need
; gate DPL >= CPL, else #GP(n*8+2) (IDT bit set); at CPL0 any gate works.  A
; not-present gate gives #NP(n*8+2).  Software interrupts are traps: the saved RIP
; is the next instruction; the #GP/#NP are faults on the INT itself.
; (The error code's index field is the vector, as for any IDT reference; QEMU's TCG
; pushes n*16+2 instead, so this guest fails there.)
%define GUEST "int_dpl"
%include "flat.inc"

start:
        call idt_init
        SET_GATE 0x80, STUB(0x80), 3
        SET_GATE 0x81, STUB(0x81), 0
        SET_GATE 3, STUB(3), 3
        SET_GATE 0x82, STUB(0x82), 3, 0, 0xE, 0         ; not present

        ; the gate DPL is not checked at CPL0
        EXPECT 0x81, 0
        int 0x81
.k81:   CHECK_EXC 1, 0x81, 0, .k81, "INT 0x81 at CPL0"
        CHECK [exc_cs], KCODE, 1, "INT 0x81 at CPL0: saved CS"

        USER_MODE user

user:
        ; DPL3 gate from CPL3
        EXPECT 0x80, 0
        int 0x80
.u80:   CHECK_EXC 2, 0x80, 0, .u80, "INT 0x80 from CPL3"
        CHECK_FROM_USER 3, "INT 0x80 from CPL3"

        ; DPL0 gate from CPL3: #GP(0x81*8 + 2)
        EXPECT 13, .r81
.f81:   int 0x81
        FAIL 4, "INT 0x81 (DPL0 gate) from CPL3 did not fault"
.r81:   CHECK_EXC 5, 13, 0x81 * 8 + 2, .f81, "INT 0x81 (DPL0 gate) from CPL3"
        CHECK_FROM_USER 6, "INT 0x81 (DPL0 gate) from CPL3"

        ; INT3 (0xCC) and INT 3 (0xCD 0x03) through a DPL3 gate: vector 3, trap
        EXPECT 3, 0
        int3
.u3:    CHECK_EXC 7, 3, 0, .u3, "INT3 from CPL3"
        CHECK_FROM_USER 8, "INT3 from CPL3"
        EXPECT 3, 0
        int 3
.u3b:   CHECK_EXC 9, 3, 0, .u3b, "INT 3 (CD 03) from CPL3"

        ; not-present gate: #NP(0x82*8 + 2)
        EXPECT 11, .r82
.f82:   int 0x82
        FAIL 10, "INT 0x82 (not-present gate) did not fault"
.r82:   CHECK_EXC 11, 11, 0x82 * 8 + 2, .f82, "INT 0x82 (not-present gate)"
        CHECK_FROM_USER 12, "INT 0x82 (not-present gate)"

        CHECK [exc_count], 6, 13, "number of interrupts and exceptions"
        PASS
