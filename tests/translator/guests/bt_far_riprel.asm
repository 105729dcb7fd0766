; bt_far_riprel: kernel code above 2 GiB (outside the top 2 GiB) with RIP-relative operands.
; bt's translation cache lies in the top 16 MiB, out of rel32 reach of 0xc0000000, so it
; cannot re-encode such an operand; it runs the instruction from a trampoline that addresses
; the operand through a scratch register, which must be invisible: loads, stores,
; read-modify-writes, LEA, an immediate after the displacement, every other register kept,
; and a #PF from such an operand taken with the guest's registers (not the scratch's value)
; and the guest's RIP and CR2. (HVSIM_FUZZ_BT_FAR_CODE in tests/fuzz/: bt ended the run with
; a host error, "callout RipRelativeOutOfReach ... is not supported".)
%define GUEST "bt_far_riprel"
%include "flat.inc"

PD3     equ 0x6000                      ; the identity map's PD for 3-4 GiB
ALIAS   equ 0xc0000000                  ; PD3[0] -> frame 0: the image again, 3 GiB up
HOLE    equ 0x200000                    ; PD3[1] not present: ALIAS + HOLE faults

start:
        call idt_init
        mov qword [PD3], 0x87           ; 2 MiB page: P | RW | US | PS, frame 0
        mov qword [PD3 + 8], 0
        mov rax, cr3
        mov cr3, rax

        mov rbx, 0xb0b0b0b0b0b0b0b0      ; kept by far_fn
        mov rsi, 0x5151515151515151
        mov rdi, 0xd1d1d1d1d1d1d1d1
        mov r8, 0x0808080808080808
        mov eax, ALIAS + far_fn
        call rax
        mov r10, rcx                    ; CHECK clobbers RAX and RDX
        mov r11, rdx
        mov r9, 0x1111 + 0x2222
        CHECK rax, r9, 1, "load and add through far RIP-relative operands"
        CHECK [far_data + 16], r9, 2, "store through a far RIP-relative operand"
        mov r9, ALIAS + far_data
        CHECK r11, r9, 3, "LEA of a far RIP-relative operand"
        CHECK [far_counter], 1, 4, "INC of a far RIP-relative operand"
        CHECK r10, 1, 5, "CMP with an immediate after a far displacement"
        mov r9, 0xb0b0b0b0b0b0b0b0
        CHECK rbx, r9, 6, "RBX kept"
        mov r9, 0x5151515151515151
        CHECK rsi, r9, 7, "RSI kept"
        mov r9, 0xd1d1d1d1d1d1d1d1
        CHECK rdi, r9, 8, "RDI kept"
        mov r9, 0x0808080808080808
        CHECK r8, r9, 9, "R8 kept"

        ; a #PF from a far RIP-relative operand: the guest's RAX in the handler and after
        mov qword [exc_vec], -1         ; EXPECT 14, ALIAS + far_after (a 64-bit address)
        mov rax, ALIAS + far_after
        mov [exc_resume], rax
        mov qword [exc_expect], 14
        mov eax, ALIAS + far_fault_fn
        call rax
        mov r9, 0x1234
        CHECK rax, r9, 10, "RAX after a fault through a far RIP-relative operand"
        CHECK [saved_rax], r9, 11, "RAX as the #PF handler saw it"
        mov r9, 0x5151515151515151
        CHECK rsi, r9, 12, "RSI (the faulting load's destination) kept"
        CHECK_EXC 13, 14, 0, ALIAS + far_load, "the #PF of a far RIP-relative load"
        mov r9, ALIAS + HOLE
        CHECK [exc_cr2], r9, 14, "CR2 of the #PF of a far RIP-relative load"
        PASS

; run at ALIAS + their address
far_fn:
        mov rax, [rel far_data]
        add rax, [rel far_data + 8]
        mov [rel far_data + 16], rax
        lea rdx, [rel far_data]
        inc qword [rel far_counter]
        xor ecx, ecx
        cmp dword [rel far_data], 0x1111
        sete cl
        ret

far_fault_fn:
        mov qword [exc_hook], save_rax
        mov eax, 0x1234
far_load:
        mov rsi, [rel $$ + HOLE - 0x100000]
        FAIL 15, "a load from a not-present page did not fault"
far_after:
        mov qword [exc_hook], 0
        ret

save_rax:                               ; exception hook: RAX as the handler saw it
        mov rax, [rsp + 8]              ; the handler's saved RAX, above our return address
        mov [saved_rax], rax
        ret

        align 8
far_data:       dq 0x1111, 0x2222, 0
far_counter:    dq 0
saved_rax:      dq 0
