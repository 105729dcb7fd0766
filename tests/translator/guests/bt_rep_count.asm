; bt_rep_count: a REP string instruction retires once per iteration, and once when it performs
; none (a count of 0), wherever blocks begin and end. Virtual time counts retired
; instructions (RDTSC reads it), so the guest measures each REP between two RDTSCs: mid-block,
; at a jump target (where bt starts a fragment), again and again in a loop at every alignment,
; with the first store to a fresh page (a stop of the shadow MMU between iterations), with
; ECX as the count (0x67), and REPE/REPNE ending on the condition. (Found by the bt
; differential fuzzer: bt retired one more than native for REP MOVS, and for a REP
; instruction at the start of a fragment; native's own count depended on where Unicorn's
; next block began.)
%define GUEST "bt_rep_count"
%include "flat.inc"

SRC             equ GUEST_DATA          ; 256 bytes of 0..255
CMP_B           equ GUEST_DATA + 0x100  ; a copy of SRC with byte 2 changed
FRESH           equ SCRATCH             ; one fresh page per measurement, never written before

; TIME_BEGIN rcx ... TIME_END status, extra, expected, "what": runs the code in between (one
; REP instruction and `extra` others) with RCX = rcx between two RDTSCs; the REP instruction
; must retire `expected` times. Clobbers RAX, RDX, R8.
%macro TIME_BEGIN 1
        rdtsc
        mov r8d, eax
        mov rcx, %1
%endmacro
%macro TIME_END 4+
        rdtsc
        sub eax, r8d
        sub eax, 3 + %2                 ; the first RDTSC, MOV R8D and MOV RCX, the others
        CHECK rax, %3, %1, %4
%endmacro

%assign fresh_page 0
%macro NEXT_FRESH 0
        mov edi, FRESH + fresh_page * 0x1000
        mov esi, SRC
  %assign fresh_page fresh_page + 1
%endmacro

start:
        call idt_init
        mov edi, SRC                    ; SRC: 0, 1, ..., 255; CMP_B: the same but byte 2
        xor eax, eax
.fill:  mov [rdi + rax], al
        mov [rdi + rax + 0x100], al
        inc eax
        cmp eax, 256
        jb .fill
        mov byte [CMP_B + 2], 0xff
        cld

        ; mid-block, first write to a fresh page each time
        NEXT_FRESH
        TIME_BEGIN 5
        rep stosb
        TIME_END 1, 0, 5, "REP STOSB, 5"
        NEXT_FRESH
        TIME_BEGIN 1
        rep movsb
        TIME_END 2, 0, 1, "REP MOVSB, 1"
        NEXT_FRESH
        TIME_BEGIN 7
        rep movsq
        TIME_END 3, 0, 7, "REP MOVSQ, 7"
        NEXT_FRESH
        TIME_BEGIN 0
        rep movsb
        TIME_END 4, 0, 1, "REP MOVSB, 0"
        NEXT_FRESH
        TIME_BEGIN 3
        rep lodsw
        TIME_END 5, 0, 3, "REP LODSW, 3"
        mov edi, FRESH                  ; the same page again (no MMU stop now)
        mov esi, SRC
        TIME_BEGIN 64
        rep movsb
        TIME_END 6, 0, 64, "REP MOVSB, 64, a page written before"

        ; at a jump target: bt starts a fragment there
        NEXT_FRESH
        TIME_BEGIN 4
        jmp .at_a
.at_a:  rep stosd
        TIME_END 7, 1, 4, "REP STOSD, 4, at a jump target"
        NEXT_FRESH
        TIME_BEGIN 2
        jmp .at_b
.at_b:  rep movsb
        TIME_END 8, 1, 2, "REP MOVSB, 2, at a jump target"
        NEXT_FRESH
        TIME_BEGIN 0
        jmp .at_c
.at_c:  rep movsb
        TIME_END 9, 1, 1, "REP MOVSB, 0, at a jump target"

        ; REPE/REPNE: CMP_B differs from SRC at byte 2; SRC holds 4 at byte 4
        mov esi, SRC
        mov edi, CMP_B
        TIME_BEGIN 10
        repe cmpsb
        TIME_END 10, 0, 3, "REPE CMPSB ending at a difference"
        mov esi, SRC
        mov edi, SRC + 0x80
        TIME_BEGIN 4
        repne cmpsb
        TIME_END 11, 0, 4, "REPNE CMPSB running out of count"
        mov edi, SRC
        TIME_BEGIN 10
        mov eax, 4
        repne scasb
        TIME_END 12, 1, 5, "REPNE SCASB ending at its match"

        ; ECX as the count (0x67): RCX's upper half does not count
        NEXT_FRESH
        mov r9, 0x100000000
        TIME_BEGIN r9
        a32 rep stosb
        TIME_END 13, 0, 1, "A32 REP STOSB, ECX 0"
        NEXT_FRESH
        mov r9, 0x100000003
        TIME_BEGIN r9
        a32 rep stosb
        TIME_END 14, 0, 3, "A32 REP STOSB, ECX 3"

        ; a loop running REP instructions at each alignment, three times over (the first
        ; time to fresh pages)
        mov r12d, 3
.again:
        NEXT_FRESH
        TIME_BEGIN 6
        rep movsb
        TIME_END 15, 0, 6, "REP MOVSB in a loop"
        NEXT_FRESH
        TIME_BEGIN 6
        nop
        rep movsb
        TIME_END 16, 1, 6, "REP MOVSB in a loop, +1"
        NEXT_FRESH
        TIME_BEGIN 6
        nop
        nop
        rep movsb
        TIME_END 17, 2, 6, "REP MOVSB in a loop, +2"
        NEXT_FRESH
        TIME_BEGIN 6
        nop
        nop
        nop
        rep movsb
        TIME_END 18, 3, 6, "REP MOVSB in a loop, +3"
        NEXT_FRESH
        TIME_BEGIN 9
        rep stosq
        TIME_END 19, 0, 9, "REP STOSQ in a loop"
        NEXT_FRESH
        TIME_BEGIN 9
        nop
        rep stosq
        TIME_END 20, 1, 9, "REP STOSQ in a loop, +1"
        NEXT_FRESH
        TIME_BEGIN 9
        nop
        nop
        rep stosq
        TIME_END 21, 2, 9, "REP STOSQ in a loop, +2"
        NEXT_FRESH
        TIME_BEGIN 9
        nop
        nop
        nop
        rep stosq
        TIME_END 22, 3, 9, "REP STOSQ in a loop, +3"
        dec r12d
        jnz .again
        PASS
