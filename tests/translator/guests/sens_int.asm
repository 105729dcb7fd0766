; sens_int: INT n, INT3, INT1 and IRETQ in guest kernel code, and the frames of exceptions
; raised by translated code. Robin & Irvine: INT n goes through the guest's IDT, not the
; VMM's; every frame must hold guest RIPs (the next instruction for a trap, the faulting one
; for a fault), the guest's CS, RFLAGS and stack, and IRETQ must return where the guest's
; frame says, with the RFLAGS (IF included) it holds.
%define GUEST "sens_int"
%include "flat.inc"
%include "sens.inc"

VEC             equ 0x41
IST_VEC         equ 0x42
NEW_RSP         equ 0x7f000             ; a stack for IRETQ to switch to

section .text

start:
        call idt_init
        SET_GATE IST_VEC, STUB(IST_VEC), 0, 1
        push qword RFLAGS_IOPL3 | 0x2   ; flags for the frames to show (IF = 0)
        popfq

        ; INT n: a trap through the guest's gate; no stack switch at CPL0, the frame 16-byte
        ; aligned below RSP
        mov rbx, rsp
        lea rsp, [rsp - 8]              ; misaligned, to see the alignment (LEA: flags kept)
        EXPECT VEC, 0
        int VEC
.a1:    add rsp, 8
        CHECK [exc_vec], VEC, 1, "INT n: vector"
        CHECK [exc_rip], .a1, 2, "INT n: saved RIP (the next instruction)"
        NOT_VMM [exc_rip], 3, "INT n: saved RIP"
        CHECK [exc_cs], KCODE, 4, "INT n: saved CS"
        CHECK [exc_rflags], RFLAGS_IOPL3 | 0x2, 5, "INT n: saved RFLAGS"
        lea rax, [rbx - 8]
        CHECK [exc_rsp], rax, 6, "INT n: saved RSP"
        CHECK [exc_ss], KDATA, 7, "INT n: saved SS"
        lea rax, [rbx - 16 - 40]        ; aligned down to 16, then five quadwords
        CHECK [exc_frame], rax, 8, "INT n: frame address"

        ; INT3 (CC), INT 3 (CD 03) and INT1 (F1): traps too
        EXPECT 3, 0
        int3
.a9:    CHECK [exc_vec], 3, 9, "INT3: vector"
        CHECK [exc_rip], .a9, 10, "INT3: saved RIP"
        NOT_VMM [exc_rip], 11, "INT3: saved RIP"
        EXPECT 3, 0
        int 3
.a12:   CHECK [exc_rip], .a12, 12, "INT 3 (CD 03): saved RIP"
        EXPECT 1, 0
        int1
.a13:   CHECK [exc_vec], 1, 13, "INT1: vector"
        CHECK [exc_rip], .a13, 14, "INT1: saved RIP"
        NOT_VMM [exc_rip], 15, "INT1: saved RIP"

        ; an IST gate: the guest's TSS's stack
        EXPECT IST_VEC, 0
        int IST_VEC
.a16:   CHECK [exc_frame], IST1_TOP - 40, 16, "INT n through an IST1 gate: frame address"
        CHECK [exc_rip], .a16, 17, "INT n through an IST1 gate: saved RIP"

        ; faults raised by translated code: the frame holds the faulting guest RIP
        EXPECT 6, .r18
        nop
.f18:   ud2
.r18:   CHECK [exc_rip], .f18, 18, "#UD: saved RIP"
        NOT_VMM [exc_rip], 19, "#UD: saved RIP"
        mov rcx, 0x0000800000000000
        EXPECT 13, .r20
.f20:   mov rax, [rcx]
        FAIL 20, "a load from a non-canonical address did not fault"
.r20:   CHECK [exc_rip], .f20, 21, "#GP: saved RIP"
        NOT_VMM [exc_rip], 22, "#GP: saved RIP"
        xor ecx, ecx
        EXPECT 0, .r23
.f23:   div rcx
        FAIL 23, "DIV by zero did not fault"
.r23:   CHECK [exc_rip], .f23, 24, "#DE: saved RIP"
        NOT_VMM [exc_rip], 25, "#DE: saved RIP"
        CHECK [exc_rsp], rbx, 26, "#DE: saved RSP"

        ; IRETQ through a frame the guest built: its RIP, CS, RFLAGS (IF set), RSP and SS
        push qword KDATA
        push qword NEW_RSP
        push qword RFLAGS_IF | 0x1 | 0x2   ; IF, CF
        push qword KCODE
        push qword .landing
        iretq
        FAIL 27, "IRETQ fell through"
.landing:
        CHECK_FLAGS -1, RFLAGS_IF | 0x1 | 0x2, 28, "RFLAGS after IRETQ"
        CHECK rsp, NEW_RSP, 29, "RSP after IRETQ"
        mov rax, cs
        CHECK rax, KCODE, 30, "CS after IRETQ"
        mov rax, ss
        CHECK rax, KDATA, 31, "SS after IRETQ"
        cli
        mov rsp, rbx

        ; the handler's IRETQ (through the stubs) came back with the interrupted RFLAGS:
        ; IOPL 3 and IF 0 as set above
        push qword RFLAGS_IOPL3 | 0x2
        popfq
        EXPECT VEC, 0
        int VEC
        CHECK_FLAGS -1, RFLAGS_IOPL3 | 0x2, 32, "RFLAGS after INT n and the handler's IRETQ"
        push qword 0x2
        popfq
        CHECK [exc_count], 9, 33, "number of interrupts and exceptions"
        PASS
