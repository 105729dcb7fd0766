; ist_df: the interrupt stack table.  A gate with IST=1 always switches to TSS.IST1,
; even without a privilege change.  Then a double fault: a #GP whose gate is not
; present raises #NP while delivering it; two contributory faults make a #DF
; (vector 8, error code 0), delivered through its IST1 gate onto the IST1 stack.
%define GUEST "ist_df"
%include "flat.inc"

absolute GUEST_DATA
fault_rsp:      resq 1
section .text

start:
        call idt_init

        SET_GATE 0x40, STUB(0x40), 0, 1
        mov rbx, rsp
        EXPECT 0x40, 0
        int 0x40
.i40:   CHECK_EXC 1, 0x40, 0, .i40, "INT 0x40 through an IST1 gate"
        CHECK [exc_frame], IST1_TOP - 40, 2, "INT 0x40 through an IST1 gate: frame not on the IST1 stack"
        CHECK [exc_rsp], rbx, 3, "INT 0x40 through an IST1 gate: saved RSP"
        CHECK [exc_cs], KCODE, 3, "INT 0x40 through an IST1 gate: saved CS"

        SET_GATE 8, df_handler, 0, 1
        SET_GATE 13, STUB(13), 0, 0, 0xE, 0             ; #GP gate not present
        sub rsp, 8                      ; a stack that is not 16-byte aligned
        mov [fault_rsp], rsp
        mov rax, 0x8000000000000000     ; non-canonical: #GP(0)
        mov rax, [rax]
        FAIL 4, "read of a non-canonical address did not fault"

; The saved CS:RIP of a #DF are undefined; the rest of the frame is not.
df_handler:
        CHECK rsp, IST1_TOP - 48, 5, "#DF not on the IST1 stack"
        CHECK [rsp], 0, 6, "#DF error code"
        CHECK [rsp + 32], [fault_rsp], 7, "#DF: saved RSP"
        CHECK [rsp + 40], KDATA, 8, "#DF: saved SS"
        PASS
