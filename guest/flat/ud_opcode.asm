; ud_opcode: invalid opcodes raise #UD (vector 6, no error code), a fault: the saved RIP
; is the instruction itself.  UD2 (0F 0B), UD0 (0F FF /r) and a LOCK prefix on an
; instruction that cannot be locked, at CPL0 and at CPL3.
%define GUEST "ud_opcode"
%include "flat.inc"

start:
        call idt_init

        EXPECT 6, .r1
.f1:    ud2
        FAIL 1, "UD2 did not raise #UD"
.r1:    CHECK_EXC 2, 6, 0, .f1, "UD2 at CPL0"
        CHECK [exc_cs], KCODE, 2, "UD2 at CPL0: saved CS"

        EXPECT 6, .r3
.f3:    db 0x0f, 0xff, 0xc0             ; UD0 eax, eax
        FAIL 3, "UD0 did not raise #UD"
.r3:    CHECK_EXC 4, 6, 0, .f3, "UD0 at CPL0"

        EXPECT 6, .r5
.f5:    db 0xf0, 0x90                   ; LOCK NOP
        FAIL 5, "LOCK NOP did not raise #UD"
.r5:    CHECK_EXC 6, 6, 0, .f5, "LOCK NOP at CPL0"

        USER_MODE user

user:
        EXPECT 6, .r7
.f7:    ud2
        FAIL 7, "UD2 at CPL3 did not raise #UD"
.r7:    CHECK_EXC 8, 6, 0, .f7, "UD2 at CPL3"
        CHECK_FROM_USER 8, "UD2 at CPL3"

        CHECK [exc_count], 4, 9, "number of #UDs"
        PASS
