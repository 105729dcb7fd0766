; Each 16-byte slot: a NOP, then one instruction that ends a translation unit.
; transfers_test.cpp builds a unit at every slot and expects exactly these two instructions.
bits 64
org 0xffffffff80200000

%macro slot 1+
    align 16, db 0xcc
    nop
    %1
%endmacro

    slot jmp short $+0x40
    slot jmp near $+0x400
    slot jz $+0x20
    slot jnz near $+0x400
    slot call $+0x100
    slot ret
    slot ret 16
    slot loop $-8
    slot jrcxz $+8
    slot a32 jecxz $+8
    slot jmp rax
    slot jmp [rax]
    slot call rbx
    slot call [rel $+0x100]
    slot iretq
    slot o64 sysret
    slot int 0x80
    slot int3
    slot jmp far [rax]
    slot retf
    slot hlt
    slot mov cr3, rax
    slot sti
    slot syscall
    slot vmcall
    slot ud2
    align 16, db 0xcc
end:
