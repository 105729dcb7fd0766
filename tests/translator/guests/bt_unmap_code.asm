; bt_unmap_code: kernel code is fetched through the mapping in force. The guest maps a code
; page, runs it, then remaps it to another frame, unmaps it or switches address spaces, and
; flushes the TLB (INVLPG, also of a 2 MiB page, or a CR3 load): the next call must run the
; new frame's code, or take the #PF of the fetch. bt finds translated code by guest virtual
; address and must not run a translation of what the page mapped before; that includes a
; direct jump chained from a page that did not change to one that did. (Found by the bt
; differential fuzzer: after the PDE of a function's alias was cleared and INVLPG'd, bt ran
; the stale translation where native took the #PF.)
%define GUEST "bt_unmap_code"
%include "flat.inc"

PD0     equ 0x3000
PT      equ SCRATCH                     ; 4 KiB table for CODE (PD0 entry 2)
PML4_B  equ SCRATCH + 0x1000            ; a second address space ...
PDPT_B  equ SCRATCH + 0x2000
PD_B    equ SCRATCH + 0x3000
PT_B    equ SCRATCH + 0x4000            ; ... in which CODE maps F2
CODE    equ 0x400000
BIG     equ 0x600000                    ; PD0 entry 3, a 2 MiB page we move
F1      equ 0x800000                    ; code frames: mov eax, 1; ret
F2      equ 0x801000                    ;              mov eax, 2; ret
F3      equ 0x802000                    ;              jmp CODE + 0x1000
L1      equ 0xa00000                    ; 2 MiB frames, code at +0x1000: mov eax, 0x11; ret
L2      equ 0xc00000                    ;                                mov eax, 0x22; ret
P       equ 1
RW      equ 2
PS      equ 0x80
IDENTITY equ 0x87                       ; flat.inc's 2 MiB identity entries: P | RW | US | PS

; COPY dst, src, len: copy code bytes from the image (clobbers rcx, rsi, rdi)
%macro COPY 3
        mov edi, %1
        mov esi, %2
        mov ecx, %3
        rep movsb
%endmacro

; CALL_CODE va, expected, status, "what": call va, which must return `expected` in EAX
%macro CALL_CODE 4+
        mov ebx, %1
        mov eax, -1
        call rbx
        CHECK rax, %2, %3, %4
%endmacro

start:
        call idt_init
        cld
        COPY F1, one, one_end - one
        COPY F2, two, two_end - two
        COPY F3, hop, hop_end - hop
        COPY L1 + 0x1000, x11, x11_end - x11
        COPY L2 + 0x1000, x22, x22_end - x22
        mov edi, PT                     ; PT and address space B: empty
        xor eax, eax
        mov ecx, 5 * 4096 / 8
        rep stosq
        mov qword [PD0 + 2 * 8], PT | P | RW

        ; 1. CODE -> F1
        mov qword [PT], F1 | P | RW
        mov rax, cr3
        mov cr3, rax
        CALL_CODE CODE, 1, 1, "CODE mapped to F1"
        CALL_CODE CODE, 1, 2, "CODE mapped to F1, again"

        ; 2. remapped to F2, INVLPG
        mov qword [PT], F2 | P | RW
        invlpg [CODE]
        CALL_CODE CODE, 2, 3, "CODE remapped to F2 (INVLPG)"

        ; 3. unmapped, INVLPG: the call's fetch faults (not present, instruction fetch)
        mov qword [PT], 0
        invlpg [CODE]
        EXPECT 14, .r3
        mov r15, rsp
        mov ebx, CODE
        call rbx
        FAIL 4, "a call to unmapped code did not fault"
.r3:    mov rsp, r15
        CHECK_EXC 5, 14, 0x10, CODE, "the fetch from unmapped CODE"
        CHECK [exc_cr2], CODE, 6, "CR2 after the fetch from unmapped CODE"

        ; 4. mapped again (F1), INVLPG
        mov qword [PT], F1 | P | RW
        invlpg [CODE]
        CALL_CODE CODE, 1, 7, "CODE mapped to F1 again"

        ; 5. remapped to F2, CR3 reloaded instead of INVLPG
        mov qword [PT], F2 | P | RW
        mov rax, cr3
        mov cr3, rax
        CALL_CODE CODE, 2, 8, "CODE remapped to F2 (CR3 load)"

        ; 6. a jump chained from a page that stays (F3 at CODE) to one that moves (CODE + 4K)
        mov qword [PT], F3 | P | RW
        mov qword [PT + 8], F1 | P | RW
        mov rax, cr3
        mov cr3, rax
        CALL_CODE CODE, 1, 9, "through the jump, F1"
        CALL_CODE CODE, 1, 10, "through the jump, F1, again"
        mov qword [PT + 8], F2 | P | RW
        invlpg [CODE + 0x1000]
        CALL_CODE CODE, 2, 11, "through the jump to a page remapped to F2"

        ; 7. a 2 MiB page moved (INVLPG of the code's address: under UC_TLB_VIRTUAL the
        ; substrate flushes 4 KiB of it, see docs/unicorn-notes.md)
        mov qword [PD0 + 3 * 8], L1 | P | RW | PS
        invlpg [BIG + 0x1000]
        CALL_CODE BIG + 0x1000, 0x11, 12, "BIG mapped to L1"
        mov qword [PD0 + 3 * 8], L2 | P | RW | PS
        invlpg [BIG + 0x1000]
        CALL_CODE BIG + 0x1000, 0x22, 13, "BIG remapped to L2"
        mov qword [PD0 + 3 * 8], BIG | IDENTITY
        invlpg [BIG + 0x1000]

        ; 8. two address spaces: CODE is F1 in this one, F2 in B
        mov qword [PT], F1 | P | RW
        invlpg [CODE]
        mov esi, 0x1000                 ; B: copies of the PML4, PDPT and PD0 ...
        mov edi, PML4_B
        mov ecx, 3 * 4096 / 8
        rep movsq
        mov qword [PML4_B], PDPT_B | P | RW
        mov qword [PDPT_B], PD_B | P | RW
        mov qword [PD_B + 2 * 8], PT_B | P | RW     ; ... with CODE in PT_B
        mov qword [PT_B], F2 | P | RW
        CALL_CODE CODE, 1, 14, "CODE in address space A"
        mov rax, PML4_B
        mov cr3, rax
        CALL_CODE CODE, 2, 15, "CODE in address space B"
        mov eax, 0x1000
        mov cr3, rax
        CALL_CODE CODE, 1, 16, "CODE in address space A again"
        PASS

; the code copied to the frames
one:    mov eax, 1
        ret
one_end:
two:    mov eax, 2
        ret
two_end:
hop:    db 0xe9                         ; jmp rel32 to the next page (CODE + 0x1000)
        dd 0x1000 - 5
hop_end:
x11:    mov eax, 0x11
        ret
x11_end:
x22:    mov eax, 0x22
        ret
x22_end:
