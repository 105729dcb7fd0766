; cr_reserved: MOV to CR0, CR3 and CR4 with a reserved bit set is #GP(0) and leaves the
; register as it was (SDM Vol. 2B MOV to CR, Vol. 3A 2.5): CR0 bits 63:32; CR4 bits that are
; reserved or belong to features this CPU does not have (CPUID: no VME, UMIP, VMX, PCID,
; XSAVE, SMAP, ...); CR3 bits 63:MAXPHYADDR (40) in IA-32e mode.  In 64-bit mode clearing
; CR0.PG or CR4.PAE, PG without PE and NW without CD are #GP(0) too.  Writes of valid values
; still work (CR4.PGE and CR4.TSD toggled, CR3 reloaded).  (QEMU's TCG, hence Unicorn,
; accepts them all: it drops some bits silently and keeps others.)
%define GUEST "cr_reserved"
%include "flat.inc"

absolute GUEST_DATA
cr0_saved:      resq 1
cr3_saved:      resq 1
cr4_saved:      resq 1
section .text

; BAD_CR n, cr, status, "what": MOV CRn, rax must be #GP(0) and leave CRn unchanged
%macro BAD_CR 3+
        EXPECT 13, %%r
%%f:    mov cr%1, rax
        FAIL %2, %3, " did not fault"
%%r:    CHECK_EXC %2, 13, 0, %%f, %3
        mov rax, cr%1
        CHECK rax, [cr%{1}_saved], %2, %3, ": the register changed"
%endmacro

; CR4_BIT bit, status: setting CR4 bit `bit` is #GP(0)
%macro CR4_BIT 2
        mov rax, [cr4_saved]
        bts rax, %1
        BAD_CR 4, %2, "CR4 bit ", %str(%1)
%endmacro

start:
        call idt_init
        mov rax, cr0
        mov [cr0_saved], rax
        mov rax, cr3
        mov [cr3_saved], rax
        mov rax, cr4
        mov [cr4_saved], rax

        ; CR4: architecturally reserved bits, and features CPUID does not report
        CR4_BIT 0, 1                    ; VME
        CR4_BIT 1, 2                    ; PVI
        CR4_BIT 11, 3                   ; UMIP
        CR4_BIT 12, 4                   ; LA57
        CR4_BIT 13, 5                   ; VMXE
        CR4_BIT 14, 6                   ; SMXE
        CR4_BIT 15, 7                   ; reserved
        CR4_BIT 16, 8                   ; FSGSBASE
        CR4_BIT 17, 9                   ; PCIDE
        CR4_BIT 18, 10                  ; OSXSAVE
        CR4_BIT 21, 11                  ; SMAP
        CR4_BIT 22, 12                  ; PKE
        CR4_BIT 26, 13                  ; reserved
        CR4_BIT 31, 14                  ; reserved
        CR4_BIT 32, 15                  ; bits 63:32
        CR4_BIT 40, 16
        CR4_BIT 63, 17
        mov rax, [cr4_saved]
        btr rax, 5
        BAD_CR 4, 18, "clearing CR4.PAE in IA-32e mode"

        ; valid CR4 writes: PGE and TSD on and off again
        mov rax, [cr4_saved]
        xor rax, 0x84                   ; PGE, TSD
        mov cr4, rax
        mov rdx, cr4
        CHECK rdx, rax, 19, "CR4 with PGE and TSD toggled"
        xor rax, 0x84
        mov cr4, rax
        mov rdx, cr4
        CHECK rdx, [cr4_saved], 20, "CR4 restored"

        ; CR0: bits 63:32, invalid combinations, PG cleared in 64-bit mode
        mov rax, [cr0_saved]
        bts rax, 32
        BAD_CR 0, 21, "CR0 bit 32"
        mov rax, [cr0_saved]
        bts rax, 63
        BAD_CR 0, 22, "CR0 bit 63"
        mov rax, [cr0_saved]
        btr rax, 0
        BAD_CR 0, 23, "CR0 with PG and without PE"
        mov rax, [cr0_saved]
        btr rax, 30
        bts rax, 29
        BAD_CR 0, 24, "CR0 with NW and without CD"
        mov rax, [cr0_saved]
        btr rax, 31
        BAD_CR 0, 25, "clearing CR0.PG in 64-bit mode"
        mov rax, [cr0_saved]
        mov cr0, rax
        mov rdx, cr0
        CHECK rdx, [cr0_saved], 26, "CR0 written back unchanged"

        ; CR3: bits 63:40 are above MAXPHYADDR
        mov rax, [cr3_saved]
        bts rax, 40
        BAD_CR 3, 27, "CR3 bit 40"
        mov rax, [cr3_saved]
        bts rax, 51
        BAD_CR 3, 28, "CR3 bit 51"
        mov rax, [cr3_saved]
        bts rax, 63
        BAD_CR 3, 29, "CR3 bit 63 (CR4.PCIDE = 0)"
        mov rax, [cr3_saved]
        or rax, 0x18                    ; PWT and PCD are not reserved
        mov cr3, rax
        mov rdx, cr3
        CHECK rdx, rax, 30, "CR3 with PWT and PCD"
        mov rax, [cr3_saved]
        mov cr3, rax
        PASS
