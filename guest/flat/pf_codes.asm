; pf_codes: page-fault (#PF, vector 14) error codes and CR2.  The 2 MiB page at
; 0x400000 is replaced by a 4 KiB page table of our own, with pages of different
; rights; each access checks the error code (P=1 W=2 US=4 ID=0x10), that CR2 is the
; exact faulting address and that the saved RIP is the faulting instruction.
; Also: a #PF is restartable (the handler maps the page and the access is retried),
; INVLPG drops a stale translation, and CR0.WP=0 lets CPL0 write read-only pages.
%define GUEST "pf_codes"
%include "flat.inc"

PD0     equ 0x3000
PT      equ SCRATCH                     ; our page table
REGION  equ 0x400000                    ; PD0 entry 2, now mapped by PT (identity)
P       equ 1
RW      equ 2
US      equ 4
NX      equ 1 << 63
MARKER  equ 0x5a17c0de5a17c0de

; Pages of REGION: 0 not present until mapped on demand, then unmapped again;
; 1 supervisor read-only; 2 user read-write, no-execute; 3 user read-only;
; 4 and up not present.
PG_DEMAND  equ REGION
PG_SUP_RO  equ REGION + 0x1000
PG_NX      equ REGION + 0x2000
PG_USER_RO equ REGION + 0x3000
PG_NP      equ REGION + 0x4000

; CHECK_PF status, error, cr2, rip, "what"
%macro CHECK_PF 5+
        CHECK_EXC %1, 14, %2, %4, %5
        CHECK [exc_cr2], %3, %1, %5, ": CR2"
%endmacro

start:
        call idt_init

        ; While the 2 MiB identity page is still there: a marker in page 0, and in
        ; pages 1 and 2 `push fetch_ran; ret`, which reports a fetch that did not fault.
        mov rax, MARKER
        mov [PG_DEMAND + 0x128], rax
        mov byte [PG_SUP_RO + 0x100], 0x68
        mov dword [PG_SUP_RO + 0x101], fetch_ran
        mov byte [PG_SUP_RO + 0x105], 0xc3
        mov byte [PG_NX + 0x40], 0x68
        mov dword [PG_NX + 0x41], fetch_ran
        mov byte [PG_NX + 0x45], 0xc3

        mov edi, PT
.zero:  mov qword [rdi], 0
        add edi, 8
        cmp edi, PT + 4096
        jb .zero
        mov qword [PT + 1 * 8], PG_SUP_RO | P
        mov rax, PG_NX | P | RW | US | NX
        mov [PT + 2 * 8], rax
        mov qword [PT + 3 * 8], PG_USER_RO | P | US
        mov qword [PD0 + 2 * 8], PT | P | RW | US
        mov rax, cr3                    ; the old 2 MiB translation may be cached
        mov cr3, rax

        ; not-present read at CPL0: error 0; the hook maps the page, the read is retried
        mov qword [exc_hook], map_demand_page
        EXPECT 14, 0
.f1:    mov rbx, [PG_DEMAND + 0x128]
        mov qword [exc_hook], 0
        CHECK [exc_count], 1, 1, "read of a not-present page did not fault"
        CHECK_PF 2, 0, PG_DEMAND + 0x128, .f1, "not-present read"
        CHECK rbx, MARKER, 3, "value read after mapping the page and retrying"

        ; the translation is now cached; after unmapping it INVLPG must drop it
        mov qword [PT], 0
        invlpg [PG_DEMAND]
        EXPECT 14, .r4
.f4:    mov rax, [PG_DEMAND + 0x10]
        FAIL 4, "read after unmapping the page and INVLPG did not fault"
.r4:    CHECK_PF 5, 0, PG_DEMAND + 0x10, .f4, "read after unmap + INVLPG"

        ; not-present write at CPL0: W
        EXPECT 14, .r6
.f6:    mov dword [PG_NP + 0xff8], 1
        FAIL 6, "write to a not-present page did not fault"
.r6:    CHECK_PF 7, 2, PG_NP + 0xff8, .f6, "not-present write"

        ; CPL0 write to a read-only page with CR0.WP=1: P|W
        EXPECT 14, .r8
.f8:    mov byte [PG_SUP_RO + 0x234], 0x77
        FAIL 8, "CPL0 write to a read-only page with CR0.WP=1 did not fault"
.r8:    CHECK_PF 9, 3, PG_SUP_RO + 0x234, .f8, "CPL0 read-only write"

        ; with CR0.WP=0 the same write succeeds (a #PF here is reported as unexpected)
        mov rax, cr0
        btr rax, 16
        mov cr0, rax
        mov byte [PG_SUP_RO + 0x234], 0x77
        bts rax, 16
        mov cr0, rax
        movzx eax, byte [PG_SUP_RO + 0x234]
        CHECK rax, 0x77, 10, "CPL0 write with CR0.WP=0"

        ; fetch from a no-execute page at CPL0: P|ID; saved RIP = CR2 = the target
        EXPECT 14, .r12
        mov eax, PG_NX + 0x40
        jmp rax
.r12:   CHECK_PF 12, 0x11, PG_NX + 0x40, PG_NX + 0x40, "fetch from an NX page"

        USER_MODE user

user:
        ; CPL3 read of a supervisor page: P|US
        EXPECT 14, .r13
.f13:   mov al, [PG_SUP_RO + 0x238]
        FAIL 13, "user read of a supervisor page did not fault"
.r13:   CHECK_PF 14, 5, PG_SUP_RO + 0x238, .f13, "user read of a supervisor page"
        CHECK_FROM_USER 14, "user read of a supervisor page"

        ; CPL3 read of a not-present page: US
        EXPECT 14, .r15
.f15:   mov al, [PG_NP + 0x567]
        FAIL 15, "user read of a not-present page did not fault"
.r15:   CHECK_PF 16, 4, PG_NP + 0x567, .f15, "user read of a not-present page"

        ; CPL3 reads a user read-only page fine, but writing it: P|W|US
        mov al, [PG_USER_RO + 0x10]
        EXPECT 14, .r17
.f17:   mov byte [PG_USER_RO + 0x10], 1
        FAIL 17, "user write to a read-only user page did not fault"
.r17:   CHECK_PF 18, 7, PG_USER_RO + 0x10, .f17, "user write to a read-only page"

        ; CPL3 write to a supervisor page: P|W|US
        EXPECT 14, .r19
.f19:   mov qword [PG_SUP_RO + 0x18], 0
        FAIL 19, "user write to a supervisor page did not fault"
.r19:   CHECK_PF 20, 7, PG_SUP_RO + 0x18, .f19, "user write to a supervisor page"

        ; CPL3 fetch from a supervisor page: P|US|ID
        EXPECT 14, .r21
        mov eax, PG_SUP_RO + 0x100
        jmp rax
.r21:   CHECK_PF 21, 0x15, PG_SUP_RO + 0x100, PG_SUP_RO + 0x100, "user fetch from a supervisor page"

        CHECK [exc_count], 10, 22, "number of #PFs"
        PASS

fetch_ran:
        FAIL 11, "instruction fetch from a no-execute or supervisor page did not fault"

map_demand_page:
        mov qword [PT], PG_DEMAND | P | RW
        invlpg [PG_DEMAND]
        ret
