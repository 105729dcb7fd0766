; sens_segcheck: LAR, LSL, VERR and VERW in guest kernel code, against descriptors in the
; guest's own GDT. Robin & Irvine: they are unprivileged and their result depends on the
; current privilege level and the descriptors' DPLs, so a kernel run above ring 0 would get
; other answers; the guest kernel (CPL 0) must get the ones its table defines.
%define GUEST "sens_segcheck"
%include "flat.inc"
%include "sens.inc"

D_BYTES         equ GDT2_FREE           ; data, byte-granular limit 0x12345
D_PAGES         equ GDT2_FREE + 0x08    ; data, page-granular limit 0xabcde (G = 1)
C_EXEC          equ GDT2_FREE + 0x10    ; 64-bit code, execute-only
D_RO            equ GDT2_FREE + 0x18    ; data, read-only
D_USER          equ GDT2_FREE + 0x20    ; data, DPL 3, writable
C_CONF          equ GDT2_FREE + 0x28    ; 64-bit code, conforming, readable, DPL 0
GATE            equ GDT2_FREE + 0x30    ; a 16-byte interrupt gate: no segment at all
BEYOND          equ 0x1230              ; past GDT2's limit

; SEL_RIGHTS(access, flags): what LAR returns for a code or data descriptor (the second
; dword AND 0x00f0ff00: the limit's high nibble is masked out)
%define SEL_RIGHTS(access, flags) (((flags) << 20) | ((access) << 8))

; LOOKUP insn, selector, zf, value, status, "what": insn rbx, ax with RBX = -1 before; ZF
; must be zf (status) and RBX value (status + 1; -1: unchanged, as on a failed check)
%macro LOOKUP 6+
        mov eax, %2
        mov rbx, -1
        %1 rbx, ax
        setz r12b
        movzx r12d, r12b
        CHECK r12, %3, %5, %6, ": ZF"
        CHECK rbx, %4, %5 + 1, %6, ": result"
%endmacro

; VERIFY insn, selector, zf, status, "what": VERR or VERW ax; ZF must be zf
%macro VERIFY 5+
        mov eax, %2
        %1 ax
        setz r12b
        movzx r12d, r12b
        CHECK r12, %3, %4, %5, ": ZF"
%endmacro

start:
        call idt_init
        call gdt2_init
        DESC D_BYTES, SEG_DESC(0, 0x12345, 0x93, 0x4)
        DESC D_PAGES, SEG_DESC(0, 0xabcde, 0x93, 0xc)
        DESC C_EXEC, SEG_DESC(0, 0xfffff, 0x98, 0xa)
        DESC D_RO, SEG_DESC(0, 0xfffff, 0x91, 0xc)
        DESC D_USER, SEG_DESC(0, 0xfffff, 0xf3, 0xc)
        DESC C_CONF, SEG_DESC(0, 0xfffff, 0x9e, 0xa)
        DESC GATE, SEG_DESC(0, 0, 0x8e, 0)
        DESC GATE + 8, 0

        ; LSL: the limits the guest's descriptors give, in bytes
        LOOKUP lsl, D_BYTES, 1, 0x12345, 1, "LSL of a byte-granular data segment"
        LOOKUP lsl, D_PAGES, 1, 0xabcdefff, 3, "LSL of a page-granular data segment"
        LOOKUP lsl, 0x30, 1, 0x67, 5, "LSL of the boot TSS"
        LOOKUP lsl, GATE, 0, -1, 7, "LSL of an interrupt gate"
        LOOKUP lsl, 0, 0, -1, 9, "LSL of the null selector"
        LOOKUP lsl, BEYOND, 0, -1, 11, "LSL of a selector beyond the GDT's limit"

        ; LAR: the access rights the guest's descriptors give
        LOOKUP lar, D_BYTES, 1, SEL_RIGHTS(0x93, 0x4), 13, "LAR of a byte-granular data segment"
        LOOKUP lar, KCODE, 1, SEL_RIGHTS(0x9b, 0xa), 15, "LAR of the kernel's code segment"
        LOOKUP lar, UCODE, 1, SEL_RIGHTS(0xfb, 0xa), 17, "LAR of the user code segment, RPL 3"
        LOOKUP lar, C_EXEC, 1, SEL_RIGHTS(0x98, 0xa), 19, "LAR of an execute-only code segment"
        LOOKUP lar, 0x30, 1, 0x8b00, 21, "LAR of the boot TSS (busy)"
        LOOKUP lar, KDATA | 3, 0, -1, 23, "LAR of a DPL0 data segment with RPL 3"
        LOOKUP lar, C_CONF | 3, 1, SEL_RIGHTS(0x9e, 0xa), 25, "LAR of a conforming code segment with RPL 3"
        LOOKUP lar, GATE, 0, -1, 27, "LAR of an interrupt gate"
        LOOKUP lar, 0, 0, -1, 29, "LAR of the null selector"

        ; VERR, VERW: readable, writable, at CPL 0 and the selector's RPL
        VERIFY verr, KDATA, 1, 31, "VERR of the kernel's data segment"
        VERIFY verw, KDATA, 1, 32, "VERW of the kernel's data segment"
        VERIFY verr, KCODE, 1, 33, "VERR of the kernel's (readable) code segment"
        VERIFY verw, KCODE, 0, 34, "VERW of a code segment"
        VERIFY verr, C_EXEC, 0, 35, "VERR of an execute-only code segment"
        VERIFY verr, D_RO, 1, 36, "VERR of a read-only data segment"
        VERIFY verw, D_RO, 0, 37, "VERW of a read-only data segment"
        VERIFY verw, D_USER | 3, 1, 38, "VERW of a DPL3 data segment with RPL 3"
        VERIFY verw, KDATA | 3, 0, 39, "VERW of a DPL0 data segment with RPL 3"
        VERIFY verr, C_CONF | 3, 1, 40, "VERR of a conforming code segment with RPL 3"
        VERIFY verr, 0x30, 0, 41, "VERR of the TSS"
        VERIFY verr, 0, 0, 42, "VERR of the null selector"
        VERIFY verw, BEYOND, 0, 43, "VERW of a selector beyond the GDT's limit"

        ; memory operands
        mov word [GUEST_DATA], D_BYTES
        mov rbx, -1
        lsl rbx, [GUEST_DATA]
        CHECK rbx, 0x12345, 44, "LSL r64, m16"
        verr [GUEST_DATA]
        setz r12b
        movzx r12d, r12b
        CHECK r12, 1, 45, "VERR m16: ZF"
        CHECK [exc_count], 0, 46, "number of exceptions"
        PASS
