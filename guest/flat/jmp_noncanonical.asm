; jmp_noncanonical: JMP r64, JMP m64 and RET to a non-canonical address are #GP(0) in
; kernel mode.  (The bt engine took the fetch there for a kernel entry and tried to
; translate it, forever: found by the bt differential fuzzer.  Where the #GP is reported
; is not checked: hvsim reports it at the target, the SDM at the branch.)
%define GUEST "jmp_noncanonical"
%include "flat.inc"

BAD             equ 0x0010703700100000  ; bit 52 set: not canonical

absolute GUEST_DATA
target:         resq 1
section .text

start:
        call idt_init
        mov rax, BAD
        EXPECT 13, .r1
        jmp rax
.r1:    CHECK [exc_vec], 13, 1, "JMP r64 to a non-canonical address: vector"
        CHECK [exc_err], 0, 1, "JMP r64 to a non-canonical address: error code"

        mov rax, BAD
        mov [target], rax
        EXPECT 13, .r2
        jmp [target]
.r2:    CHECK [exc_vec], 13, 2, "JMP m64 to a non-canonical address: vector"

        mov rbx, rsp
        mov rax, BAD
        push rax
        EXPECT 13, .r3
        ret
.r3:    mov rsp, rbx
        CHECK [exc_vec], 13, 3, "RET to a non-canonical address: vector"
        PASS
