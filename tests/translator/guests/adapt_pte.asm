; adapt_pte: one store instruction in kernel code writes a page-table entry again and again
; (Adams & Agesen's ptemod), then remaps and unmaps pages through it, then writes an ordinary
; page with it many times, then a page table again. Under bt with shadow paging the first few
; writes are page faults to the VMM, then the store is retranslated into a callout that
; emulates the write (adaptive binary translation), and translated back once it keeps
; missing page tables. Whatever the translation, the guest must see what the architecture
; says: every remap it made visible (INVLPG, or a not-present entry made present) is seen.
%define GUEST "adapt_pte"
%include "flat.inc"

PD0     equ 0x3000
PT      equ SCRATCH                     ; the 4 KiB table for VA REGION
REGION  equ 0x400000                    ; PD0 entry 2
F1      equ 0x800000                    ; frames with markers
F2      equ 0x801000
F3      equ 0x802000
PLAIN   equ 0x803000                    ; an ordinary page the same store writes later
P       equ 1
RW      equ 2
A       equ 0x20
M1      equ 0x1111111111111111
M2      equ 0x2222222222222222
M3      equ 0x3333333333333333
PTEMOD_ROUNDS equ 200
PLAIN_ROUNDS  equ 200                   ; more than the engine's misses before it adapts back

start:
        call idt_init
        mov rax, M1
        mov [F1], rax
        mov rax, M2
        mov [F2], rax
        mov rax, M3
        mov [F3], rax
        mov edi, PT
.zero:  mov qword [rdi], 0
        add edi, 8
        cmp edi, PT + 0x1000
        jb .zero
        mov qword [PT], F1 | P | RW
        mov qword [PD0 + 2 * 8], PT | P | RW
        mov rax, cr3
        mov cr3, rax
        mov rax, [REGION]               ; the walk through PT: it is a page table now
        mov rdx, M1
        CHECK rax, rdx, 1, "REGION maps F1"

        ; ptemod: the same value written back, many times
        mov ecx, PTEMOD_ROUNDS
.ptemod:
        mov rdi, PT
        mov rax, F1 | P | RW | A
        call store
        dec ecx
        jnz .ptemod
        mov rax, [REGION]
        mov rdx, M1
        CHECK rax, rdx, 2, "REGION still maps F1"

        ; remap through the (by now adapted) store, INVLPG: the new frame is seen
        mov rdi, PT
        mov rax, F2 | P | RW
        call store
        invlpg [REGION]
        mov rax, [REGION]
        mov rdx, M2
        CHECK rax, rdx, 3, "REGION remapped to F2"

        ; a not-present entry made present needs no INVLPG
        mov rdi, PT + 8
        mov rax, F3 | P | RW
        call store
        mov rax, [REGION + 0x1000]
        mov rdx, M3
        CHECK rax, rdx, 4, "REGION + 4 KiB made present"

        ; unmapped and invalidated: the read faults
        mov rdi, PT
        xor eax, eax
        call store
        invlpg [REGION]
        EXPECT 14, .r5
.f5:    mov rax, [REGION]
        FAIL 5, "read of the unmapped page did not fault"
.r5:    CHECK_EXC 6, 14, 0, .f5, "unmapped read"

        ; the same store on an ordinary page: emulated or not, the values land
        mov ecx, PLAIN_ROUNDS
.plain: lea rdi, [PLAIN + rcx * 8]
        mov rax, rcx
        call store
        dec ecx
        jnz .plain
        mov rax, [PLAIN + 8]
        CHECK rax, 1, 7, "first plain store"
        mov rax, [PLAIN + PLAIN_ROUNDS * 8]
        CHECK rax, PLAIN_ROUNDS, 8, "last plain store"

        ; and a page table again, after all that
        mov rdi, PT
        mov rax, F1 | P | RW
        call store
        invlpg [REGION]
        mov rax, [REGION]
        mov rdx, M1
        CHECK rax, rdx, 9, "REGION maps F1 again"
        PASS

; The one store every write above goes through.
store:  mov [rdi], rax
        ret
