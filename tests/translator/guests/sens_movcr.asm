; sens_movcr: MOV to/from CR2, CR3, CR4 and CR8 in guest kernel code. The guest reads its own
; control registers (not a shadow CR3 or the VMM's CR4), and its CR3 is the one in use: an
; address space of the guest's making translates as its tables say.
%define GUEST "sens_movcr"
%include "flat.inc"
%include "sens.inc"

BOOT_CR3        equ 0x1000
BOOT_CR4        equ 0x20                ; PAE
PML4_COPY       equ SCRATCH + 0x3000
ALIAS           equ 0x8000000000        ; PML4 entry 1: in the copy, an alias of the first 512 GiB
MAGIC           equ 0x5eedf00dcafe1234
UNMAPPED        equ 0x200000000         ; beyond the boot identity map
CR4_PGE         equ 1 << 7
CR4_OSFXSR      equ 1 << 9
CR4_OSXMMEXCPT  equ 1 << 10

absolute GUEST_DATA
magic:          resq 1
section .text

start:
        call idt_init

        ; CR2: what the guest writes, then what its #PF wrote
        mov rax, 0x123456789abc
        mov cr2, rax
        mov rbx, cr2
        mov rdx, 0x123456789abc
        CHECK rbx, rdx, 1, "MOV from CR2 after MOV to CR2"
        mov rbx, UNMAPPED + 0x18
        EXPECT 14, .r2
.f2:    mov rax, [rbx]
        FAIL 2, "load from an unmapped address did not fault"
.r2:    mov rax, cr2
        mov rdx, UNMAPPED + 0x18
        CHECK rax, rdx, 3, "MOV from CR2 after a #PF"
        CHECK [exc_rip], .f2, 4, "#PF in translated code: saved RIP"
        NOT_VMM [exc_rip], 5, "#PF in translated code: saved RIP"

        ; CR3: the boot tables, then a copy of the PML4 with an alias of its first entry
        mov rax, cr3
        CHECK rax, BOOT_CR3, 6, "MOV from CR3 at boot"
        mov rax, MAGIC
        mov [magic], rax
        xor ecx, ecx
.zero:  mov qword [PML4_COPY + rcx], 0
        add ecx, 8
        cmp ecx, 4096
        jb .zero
        mov rax, [BOOT_CR3]
        mov [PML4_COPY], rax
        mov [PML4_COPY + 8], rax
        mov rax, PML4_COPY
        mov cr3, rax
        mov rax, cr3
        CHECK rax, PML4_COPY, 7, "MOV from CR3 after MOV to CR3"
        mov rbx, ALIAS + magic
        mov rax, [rbx]
        mov rdx, MAGIC
        CHECK rax, rdx, 8, "a load through the alias only the guest's new CR3 maps"
        ; PWT and PCD are CR3 bits the guest reads back
        mov rax, BOOT_CR3 | 0x18
        mov cr3, rax
        mov rax, cr3
        CHECK rax, BOOT_CR3 | 0x18, 9, "MOV from CR3 with PWT and PCD"
        mov rax, BOOT_CR3
        mov cr3, rax
        mov rbx, ALIAS + magic
        EXPECT 14, .r10
.f10:   mov rax, [rbx]
        FAIL 10, "the alias is still mapped after MOV CR3 back to the boot tables"
.r10:   mov rax, cr2
        mov rdx, ALIAS + magic
        CHECK rax, rdx, 11, "CR2 of the #PF on the unmapped alias"
        CHECK [exc_rip], .f10, 12, "#PF on the alias: saved RIP"

        ; CR4: bits the guest sets read back, exactly
        mov rax, cr4
        CHECK rax, BOOT_CR4, 13, "MOV from CR4 at boot"
        mov rax, BOOT_CR4 | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PGE
        mov cr4, rax
        mov rax, cr4
        CHECK rax, BOOT_CR4 | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PGE, 14, "MOV from CR4 after MOV to CR4"
        mov rax, BOOT_CR4
        mov cr4, rax
        ; CR1 does not exist: MOV to CR1 (0F 22 C8) is #UD at the MOV. (No #GP check for
        ; CR4's reserved bits: the Unicorn substrate ignores them, under every engine.)
        EXPECT 6, .r15
.f15:   db 0x0f, 0x22, 0xc8
        FAIL 15, "MOV to CR1 did not fault"
.r15:   CHECK [exc_rip], .f15, 16, "MOV to CR1 #UD: saved RIP"
        NOT_VMM [exc_rip], 17, "MOV to CR1 #UD: saved RIP"
        CHECK [exc_err], 0, 18, "MOV to CR1 #UD: error code"
        mov rax, cr4
        CHECK rax, BOOT_CR4, 19, "MOV from CR4 after the #UD"

        ; CR8, the task-priority register
        mov rax, cr8
        CHECK rax, 0, 20, "MOV from CR8 at boot"
        mov eax, 9
        mov cr8, rax
        mov rbx, cr8
        CHECK rbx, 9, 21, "MOV from CR8 after MOV to CR8"
        xor eax, eax
        mov cr8, rax

        CHECK [exc_count], 3, 22, "number of exceptions"
        PASS
