; pt_rewrite: the guest rewrites its own page tables in the ways the SDM allows and checks what
; it reads back: remapping a page by writing the PTE of the active table (then INVLPG), a
; not-present entry made present without INVLPG, A and D set by the processor, 2 MiB and
; 1 GiB pages, a PDE switched between a large page and a table, a recursive (self-referencing)
; PML4 entry used to read and write the tables, and CR3 switches between two address spaces.
; Memory virtualization (EPT, shadow paging) must be invisible: the same results under all.
%define GUEST "pt_rewrite"
%include "flat.inc"

PML4    equ 0x1000
PDPT    equ 0x2000
PD0     equ 0x3000
PT      equ SCRATCH                     ; a 4 KiB table for VA REGION
PML4_B  equ SCRATCH + 0x1000            ; a second address space
PDPT_B  equ SCRATCH + 0x2000
PD_B    equ SCRATCH + 0x3000
REGION  equ 0x400000                    ; PD0 entry 2
BIG     equ 0x600000                    ; PD0 entry 3: a 2 MiB page we move around
HUGE    equ 0x40000000                  ; PDPT entry 1: a 1 GiB page
OTHER   equ 0x8000000000                ; PML4 entry 1: only in address space B
F1      equ 0x800000                    ; frames with markers
F2      equ 0x801000
F3      equ 0x802000
P       equ 1
RW      equ 2
A       equ 0x20
D       equ 0x40
PS      equ 0x80
M1      equ 0x1111111111111111
M2      equ 0x2222222222222222
M3      equ 0x3333333333333333
RECURSE equ 510                                 ; PML4 slot that points at the PML4
RBASE   equ 0xffffff0000000000                  ; sign-extended 510 << 39
PTE_OF_REGION equ RBASE + ((REGION >> 9) & 0x7ffffffff8)   ; REGION's PTE through the recursion
PML4_SELF equ 0xffffff7fbfdfe000               ; the PML4 itself through the recursion

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
        cmp edi, SCRATCH + 0x4000
        jb .zero

        ; map REGION -> F1 through a 4 KiB table
        mov qword [PT], F1 | P | RW
        mov qword [PD0 + 2 * 8], PT | P | RW
        mov rax, cr3
        mov cr3, rax
        mov rax, [REGION]
        mov rdx, M1
        CHECK rax, rdx, 1, "REGION mapped to F1"
        CHECK qword [PT], F1 | P | RW | A, 2, "PTE after a read: A set, D clear"
        mov byte [REGION + 8], 1
        CHECK qword [PT], F1 | P | RW | A | D, 3, "PTE after a write: D set"

        ; remap by writing the active table's PTE, then INVLPG
        mov qword [PT], F2 | P | RW
        invlpg [REGION]
        mov rax, [REGION]
        mov rdx, M2
        CHECK rax, rdx, 4, "REGION remapped to F2"
        CHECK qword [PT], F2 | P | RW | A, 5, "A set again after the rewrite"

        ; not present -> present needs no INVLPG (nothing was cached)
        EXPECT 14, .r6
.f6:    mov rax, [REGION + 0x1000]
        FAIL 6, "read of a not-present page did not fault"
.r6:    CHECK_EXC 7, 14, 0, .f6, "not-present read"
        mov qword [PT + 8], F3 | P | RW
        mov rax, [REGION + 0x1000]
        mov rdx, M3
        CHECK rax, rdx, 8, "page made present without INVLPG"

        ; read-only, then writable again
        mov qword [PT], F2 | P
        invlpg [REGION]
        EXPECT 14, .r9
.f9:    mov qword [REGION + 16], 5
        FAIL 9, "write to a read-only page did not fault"
.r9:    CHECK_EXC 10, 14, 3, .f9, "write to a read-only page"
        mov qword [PT], F2 | P | RW
        invlpg [REGION]
        mov qword [REGION + 16], 5
        CHECK qword [F2 + 16], 5, 11, "write after making the page writable"

        ; a 2 MiB page, moved by rewriting its PDE
        mov qword [PD0 + 3 * 8], 0xa00000 | P | RW | PS
        invlpg [BIG]
        mov qword [0xa01230], 0x77
        CHECK qword [BIG + 0x1230], 0x77, 12, "2 MiB page read"
        mov qword [0xc01230], 0x99
        mov qword [PD0 + 3 * 8], 0xc00000 | P | RW | PS
        invlpg [BIG + 0x1000]           ; any address in the large page drops it
        CHECK qword [BIG + 0x1230], 0x99, 13, "2 MiB page moved"
        ; the same PDE now points at a 4 KiB table (the first entry F1)
        mov qword [PD0 + 3 * 8], PT | P | RW
        mov rax, cr3
        mov cr3, rax
        mov rax, [BIG]
        mov rdx, M2
        CHECK rax, rdx, 14, "large page replaced by a table"

        ; a 1 GiB page over physical 0
        mov qword [PDPT + 1 * 8], 0 | P | RW | PS
        invlpg [HUGE]
        mov rax, [HUGE + F1]
        mov rdx, M1
        CHECK rax, rdx, 15, "1 GiB page read"

        ; a recursive PML4 entry: the tables become readable and writable as memory
        mov qword [PML4 + RECURSE * 8], PML4 | P | RW
        mov rax, cr3
        mov cr3, rax
        mov rsi, PTE_OF_REGION          ; 64-bit addresses go through a register
        mov rax, [rsi]
        and rax, ~(A | D)
        CHECK rax, F2 | P | RW, 16, "REGION's PTE read through the recursive mapping"
        mov rsi, PML4_SELF + RECURSE * 8
        mov rax, [rsi]
        and rax, ~(A | D)
        CHECK rax, PML4 | P | RW, 17, "the PML4 reads itself"
        mov rsi, PTE_OF_REGION
        mov qword [rsi], F1 | P | RW
        invlpg [REGION]
        mov rax, [REGION]
        mov rdx, M1
        CHECK rax, rdx, 18, "REGION remapped through the recursive mapping"
        CHECK qword [PT], F1 | P | RW | A, 19, "the write went to the real PTE"
        mov qword [PML4 + RECURSE * 8], 0
        mov rax, cr3
        mov cr3, rax

        ; a second address space B: the same kernel half, plus OTHER -> F3 (2 MiB at 0x800000)
        mov esi, PML4
        mov edi, PML4_B
        mov ecx, 512
        rep movsq
        mov qword [PML4_B + 1 * 8], PDPT_B | P | RW
        mov qword [PDPT_B], PD_B | P | RW
        mov qword [PD_B], 0x800000 | P | RW | PS
        mov ebx, 3                      ; switch back and forth
.switch:
        mov eax, PML4_B
        mov cr3, rax
        mov rsi, OTHER + 0x2000
        mov rax, [rsi]
        mov rdx, M3
        CHECK rax, rdx, 20, "OTHER in address space B"
        mov rax, [REGION]
        mov rdx, M1
        CHECK rax, rdx, 21, "REGION in address space B"
        mov eax, PML4
        mov cr3, rax
        EXPECT 14, .r22
        mov rsi, OTHER
.f22:   mov rax, [rsi]
        FAIL 22, "OTHER mapped in the first address space"
.r22:   CHECK_EXC 23, 14, 0, .f22, "OTHER in the first address space"
        dec ebx
        jnz .switch

        ; a PTE changed while the other address space is loaded is seen after switching back
        mov eax, PML4_B
        mov cr3, rax
        mov qword [PT], F3 | P | RW     ; the PT is shared by both spaces
        mov eax, PML4
        mov cr3, rax
        mov rax, [REGION]
        mov rdx, M3
        CHECK rax, rdx, 24, "PTE changed in the other address space"
        PASS
