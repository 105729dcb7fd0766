; sens_far: far CALL, far JMP and far RET in guest kernel code. They load CS from the guest's
; GDT (Robin & Irvine: they check privilege against the real CPL), so the bt engine runs them
; from trampolines in its cache; a far CALL pushes its return address, which must be the
; guest's next RIP, never the trampoline's, in both operand sizes. (It was the trampoline's
; until the bt engine learned to put the guest's there: a 32-bit RETF then went to the
; truncated TC address.)
%define GUEST "sens_far"
%include "flat.inc"
%include "sens.inc"

KCODE2          equ GDT2_FREE           ; a second 64-bit kernel code segment, the guest's own
CALL_GATE       equ GDT2_FREE + 0x10    ; a 64-bit call gate (16 bytes) to gate_target in KCODE2

absolute GUEST_DATA
seen_cs:        resq 1                  ; what each far target saw
seen_ret:       resq 1                  ;   the return address on its stack
seen_sel:       resq 1                  ;   the CS selector on its stack
seen_rsp:       resq 1
section .text

start:
        call idt_init
        call gdt2_init
        DESC KCODE2, SEG_DESC(0, 0xfffff, 0x9b, 0xa)
        ; the call gate: offset 15:0 | selector << 16 | type 0xC, P << 40 | offset 31:16 << 48
        DESC CALL_GATE, (GATE_TARGET & 0xffff) | (KCODE2 << 16) | (0x8c << 40) | ((GATE_TARGET >> 16) << 48)
        DESC CALL_GATE + 8, 0

        ; far CALL m16:64 (REX.W): lands at the target with the guest's CS; pushes CS and RIP,
        ; 8 bytes each; RETFQ comes back
        mov rbx, rsp
        call far qword [fp64]
.ret1:  CHECK [seen_cs], KCODE2, 1, "far CALL m16:64: CS at the target"
        CHECK [seen_ret], .ret1, 2, "far CALL m16:64: the pushed return RIP"
        NOT_VMM [seen_ret], 3, "far CALL m16:64: the pushed return RIP"
        CHECK [seen_sel], KCODE, 4, "far CALL m16:64: the pushed CS (RPL 0)"
        lea rax, [rbx - 16]
        CHECK [seen_rsp], rax, 5, "far CALL m16:64: RSP at the target"
        CHECK rsp, rbx, 6, "RSP after RETFQ"
        mov rax, cs
        CHECK rax, KCODE, 7, "CS after RETFQ"

        ; far CALL m16:32 (the default operand size): pushes CS and EIP, 4 bytes each; RETF
        ; (32-bit) comes back, zero-extending EIP
        call far dword [fp32]
.ret2:  CHECK [seen_cs], KCODE2, 8, "far CALL m16:32: CS at the target"
        CHECK [seen_ret], .ret2, 9, "far CALL m16:32: the pushed return EIP"
        CHECK [seen_sel], KCODE, 10, "far CALL m16:32: the pushed CS (RPL 0)"
        lea rax, [rbx - 8]
        CHECK [seen_rsp], rax, 11, "far CALL m16:32: RSP at the target"
        CHECK rsp, rbx, 12, "RSP after RETF"
        mov rax, cs
        CHECK rax, KCODE, 13, "CS after RETF"

        ; far CALL m16:32 through a 64-bit call gate: the gate's target and selector; a 64-bit
        ; gate pushes CS and RIP as 8 bytes each, whatever the CALL's operand size
        call far dword [fpgate]
.ret3:  CHECK [seen_cs], KCODE2, 30, "far CALL through a call gate: CS at the target"
        CHECK [seen_ret], .ret3, 31, "far CALL through a call gate: the pushed return RIP"
        NOT_VMM [seen_ret], 32, "far CALL through a call gate: the pushed return RIP"
        CHECK [seen_sel], KCODE, 33, "far CALL through a call gate: the pushed CS"
        lea rax, [rbx - 16]
        CHECK [seen_rsp], rax, 34, "far CALL through a call gate: RSP at the target"
        CHECK rsp, rbx, 35, "RSP after RETFQ from the call gate's target"

        ; far JMP m16:64 there, far RET of a frame the guest built back
        jmp far qword [fpjmp]
.back:  CHECK [seen_cs], KCODE2, 14, "far JMP: CS at the target"
        CHECK rsp, rbx, 15, "RSP after far JMP and RETFQ"
        mov rax, cs
        CHECK rax, KCODE, 16, "CS after RETFQ from the far JMP's target"

        ; RETFQ with an immediate: pops the frame, then 16 bytes of arguments
        push qword 0x1111
        push qword 0x2222
        push qword KCODE2
        push qword .imm_target
        o64 retf 16
.imm_target:
        mov rax, cs
        CHECK rax, KCODE2, 17, "RETFQ 16: CS"
        CHECK rsp, rbx, 18, "RSP after RETFQ 16"
        push qword KCODE
        push qword .imm_back
        o64 retf
.imm_back:
        mov rax, cs
        CHECK rax, KCODE, 19, "CS after RETFQ to the boot code segment"

        ; far CALL to a selector beyond the GDT's limit: #GP(selector) at the CALL, nothing pushed
        EXPECT 13, .r20
.f20:   call far qword [fpbad]
        FAIL 20, "far CALL to selector 0x1230 did not fault"
.r20:   CHECK [exc_err], 0x1230, 21, "far CALL #GP: error code"
        CHECK [exc_rip], .f20, 22, "far CALL #GP: saved RIP"
        NOT_VMM [exc_rip], 23, "far CALL #GP: saved RIP"
        CHECK [exc_rsp], rbx, 24, "far CALL #GP: saved RSP (nothing pushed)"
        CHECK [exc_count], 1, 25, "number of exceptions"

        ; near CALL and RIP-relative LEA, rewritten by the translator: the guest's RIPs too
        call .near
.near:  pop rax
        CHECK rax, .near, 26, "the return address a near CALL pushed"
        lea rax, [rel .lea]
.lea:   CHECK rax, .lea, 27, "LEA RAX, [RIP]"
        PASS

; far CALL targets: record what the guest sees there, then return with the same operand size
target64:
        push rax
        mov rax, cs
        mov [seen_cs], rax
        mov rax, [rsp + 8]              ; RIP, then CS, 8 bytes each
        mov [seen_ret], rax
        movzx eax, word [rsp + 16]
        mov [seen_sel], rax
        lea rax, [rsp + 8]
        mov [seen_rsp], rax
        pop rax
        o64 retf
target32:
        push rax
        mov rax, cs
        mov [seen_cs], rax
        mov eax, [rsp + 8]              ; EIP, then CS, 4 bytes each
        mov [seen_ret], rax
        movzx eax, word [rsp + 12]
        mov [seen_sel], rax
        lea rax, [rsp + 8]
        mov [seen_rsp], rax
        pop rax
        retf                            ; 32-bit operand size: pops EIP and CS
gate_target:
        jmp target64
GATE_TARGET     equ gate_target - $$ + 0x100000 ; a number, for the descriptor's arithmetic
jmp_target:
        mov rax, cs
        mov [seen_cs], rax
        push qword KCODE
        push qword start.back
        o64 retf

fp64:   dq target64
        dw KCODE2
fp32:   dd target32
        dw KCODE2
fpjmp:  dq jmp_target
        dw KCODE2
fpgate: dd 0                            ; the offset is the gate's
        dw CALL_GATE
fpbad:  dq target64
        dw 0x1230
