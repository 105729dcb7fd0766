; invlpg_large: INVLPG of one address of a large page invalidates the translation of the whole
; page (SDM Vol. 3A 4.10.4.1: "the instruction invalidates any TLB entries that are for a page
; number corresponding to the linear address"; its footnote: a processor that cached a 2 MiB or
; 1 GiB page as several smaller entries invalidates all of them).  Each part maps a large page
; to frame A, reads two 4 KiB parts of it (so both are cached), remaps it to frame B, INVLPGs
; one address of it and reads the other part: it must come from B.
;   1. a 2 MiB page, INVLPG of its first 4 KiB, read of its second;
;   2. the same, INVLPG of the second part, read of the first;
;   3. a 1 GiB page replaced by a page directory whose 2 MiB entry maps B: INVLPG of an
;      address inside both, read of another 4 KiB of it.
; (hvsim used to hand the CPU 4 KiB TLB entries for large pages and let INVLPG drop only the
; operand's: under native paging and EPT the other part still read frame A.)
%define GUEST "invlpg_large"
%include "flat.inc"

FRAME_A         equ 0x800000            ; 8 MiB: a 2 MiB frame of RAM
FRAME_B         equ 0xa00000            ; 10 MiB
MARK_A          equ 0xa0a0a0a000000000
MARK_B          equ 0xb0b0b0b000000000
PD1             equ 0x4000              ; flat.inc's PD for linear 1 GiB - 2 GiB
PDPT            equ 0x2000
WIN2M           equ 0x40000000          ; PD1[0]: linear 1 GiB, 2 MiB page
WIN1G           equ 0xc0000000          ; PDPT[3]: linear 3 GiB, a 1 GiB page in part 3
NEW_PD          equ SCRATCH             ; part 3's page directory
PS              equ 0x80

absolute GUEST_DATA
saved_pdpte:    resq 1
section .text

start:
        call idt_init
        ; Each 4 KiB part of A and B holds its frame's mark plus its offset, so a read says
        ; which frame and which part it came from.
        mov rdi, FRAME_A
        mov rax, MARK_A
        call fill_marks
        mov rdi, FRAME_B
        mov rax, MARK_B
        call fill_marks

        ; 1. 2 MiB page: INVLPG of the first part, read the second
        mov qword [PD1], FRAME_A | PS | 3
        invlpg [WIN2M]
        CHECK [WIN2M], MARK_A, 1, "2 MiB page, before the remap: first part"
        CHECK [WIN2M + 0x1000], MARK_A + 0x1000, 1, "2 MiB page, before the remap: second part"
        mov qword [PD1], FRAME_B | PS | 3
        invlpg [WIN2M]
        CHECK [WIN2M + 0x1000], MARK_B + 0x1000, 2, "2 MiB page remapped, INVLPG of its first 4 KiB: second part"
        CHECK [WIN2M], MARK_B, 2, "2 MiB page remapped, INVLPG of its first 4 KiB: first part"

        ; 2. back to A, INVLPG of the second part (an address inside it), read the first
        mov rbx, WIN2M + 0x1234
        mov qword [PD1], FRAME_A | PS | 3
        invlpg [rbx]
        CHECK [WIN2M + 0x1000], MARK_A + 0x1000, 3, "2 MiB page back to A: second part"
        CHECK [WIN2M], MARK_A, 3, "2 MiB page back to A: first part"
        CHECK [WIN2M + 0x1ff000], MARK_A + 0x1ff000, 3, "2 MiB page back to A: last part"
        mov qword [PD1], FRAME_B | PS | 3
        invlpg [rbx]
        CHECK [WIN2M], MARK_B, 4, "2 MiB page remapped, INVLPG inside its second 4 KiB: first part"
        CHECK [WIN2M + 0x1ff000], MARK_B + 0x1ff000, 4, "2 MiB page remapped, INVLPG inside its second 4 KiB: last part"

        ; 3. 1 GiB page (linear 3 GiB -> physical 0), read two parts of A through it
        mov rax, [PDPT + 3 * 8]
        mov [saved_pdpte], rax
        mov qword [PDPT + 3 * 8], 0 | PS | 3
        mov rax, cr3                    ; the PDPTE changed in place: reload CR3 once
        mov cr3, rax
        mov rsi, WIN1G + FRAME_A        ; above 2 GiB: no 32-bit displacement reaches it
        CHECK [rsi], MARK_A, 5, "1 GiB page: first part of A"
        CHECK [rsi + 0x1000], MARK_A + 0x1000, 5, "1 GiB page: second part of A"
        ; now a page directory whose entry 4 maps B at the same linear 2 MiB
        mov edi, NEW_PD
        mov ecx, 512
.zero:  mov qword [rdi], 0
        add edi, 8
        dec ecx
        jnz .zero
        mov qword [NEW_PD + (FRAME_A >> 21) * 8], FRAME_B | PS | 3
        mov qword [PDPT + 3 * 8], NEW_PD | 3
        invlpg [rsi]
        CHECK [rsi + 0x1000], MARK_B + 0x1000, 6, "1 GiB page replaced, INVLPG of one address: another part"

        ; restore flat.inc's mapping
        mov rax, [saved_pdpte]
        mov [PDPT + 3 * 8], rax
        mov rax, cr3
        mov cr3, rax
        PASS

; fill_marks: the first qword of each 4 KiB part of the 2 MiB at rdi gets rax + its offset
fill_marks:
        xor ecx, ecx
.part:  lea rdx, [rax + rcx]
        mov [rdi + rcx], rdx
        add ecx, 0x1000
        cmp ecx, 0x200000
        jb .part
        ret

