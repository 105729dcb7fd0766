; sens_segments: MOV to/from segment registers, PUSH and POP of FS and GS, LFS/LGS/LSS, and
; the segment pushes and pops 64-bit mode removed (PUSH CS, PUSH DS, POP ES: #UD), in guest
; kernel code. Robin & Irvine: a read shows the RPL, which would be the deprivileged CPL's
; under a VMM that ran the kernel above ring 0; the guest kernel must see RPL 0 and its own
; selectors, and a load must use its own descriptors.
%define GUEST "sens_segments"
%include "flat.inc"
%include "sens.inc"

FS_SEL          equ GDT2_FREE           ; a data segment with a base of the guest's choosing
FS_BASE         equ SCRATCH + 0x5000
MAGIC           equ 0x0123456789abcdef

absolute GUEST_DATA
farptr:         resq 2                  ; m16:32 for LFS/LGS/LSS
section .text

start:
        call idt_init
        call gdt2_init

        ; reads: the guest's selectors, RPL 0 for the kernel's CS and SS
        mov rax, -1
        mov rax, cs
        CHECK rax, KCODE, 1, "MOV r64, CS (RPL 0)"
        mov eax, -1
        mov ax, ss
        movzx eax, ax
        CHECK rax, KDATA, 2, "MOV r16, SS (RPL 0)"
        mov rax, ds
        CHECK rax, KDATA, 3, "MOV r64, DS"
        mov rax, es
        CHECK rax, KDATA, 4, "MOV r64, ES"
        mov rax, fs
        CHECK rax, 0, 5, "MOV r64, FS"
        mov qword [farptr], -1
        mov [farptr], gs
        CHECK [farptr], 0xffffffffffff0000, 6, "MOV m16, GS (only 2 bytes written)"

        ; loads: the selector is kept as loaded, RPL included
        mov ax, UDATA                   ; DPL3 data, RPL 3: loadable into DS at CPL0
        mov ds, ax
        mov rax, ds
        CHECK rax, UDATA, 7, "MOV DS, 0x23 then MOV r64, DS"
        mov ax, KDATA
        mov ds, ax
        mov ss, ax
        mov rax, ss
        CHECK rax, KDATA, 8, "MOV SS, 0x10 then MOV r64, SS"
        xor eax, eax
        mov es, ax                      ; a null selector is allowed in 64-bit mode
        mov rax, es
        CHECK rax, 0, 9, "MOV ES, 0 then MOV r64, ES"
        mov ax, KDATA
        mov es, ax

        ; a load uses the guest's descriptor: FS's base comes from the GDT2 entry
        mov rax, MAGIC
        mov [FS_BASE], rax
        DESC FS_SEL, SEG_DESC(FS_BASE, 0xfffff, 0x93, 0xc)
        mov ax, FS_SEL
        mov fs, ax
        mov rax, [fs:0]
        mov rdx, MAGIC
        CHECK rax, rdx, 10, "a load through FS with the base of the guest's descriptor"

        ; PUSH FS / POP GS: the guest's stack, the guest's selector
        mov rbx, rsp
        push fs
        lea rcx, [rbx - 8]
        CHECK rsp, rcx, 11, "RSP after PUSH FS"
        movzx eax, word [rsp]
        CHECK rax, FS_SEL, 12, "the selector PUSH FS stored"
        pop gs
        CHECK rsp, rbx, 13, "RSP after POP GS"
        mov rax, gs
        CHECK rax, FS_SEL, 14, "MOV r64, GS after POP GS"
        mov rax, [gs:0]
        mov rdx, MAGIC
        CHECK rax, rdx, 15, "a load through GS after POP GS"
        push gs
        pop fs
        mov rax, fs
        CHECK rax, FS_SEL, 16, "MOV r64, FS after PUSH GS, POP FS"

        ; POP FS of a selector beyond the GDT's limit: #GP(selector) at the POP, RSP unchanged
        push qword 0x1230
        mov rbx, rsp
        EXPECT 13, .r17
.f17:   pop fs
        FAIL 17, "POP FS of selector 0x1230 did not fault"
.r17:   CHECK [exc_err], 0x1230, 18, "POP FS #GP: error code"
        CHECK [exc_rip], .f17, 19, "POP FS #GP: saved RIP"
        NOT_VMM [exc_rip], 20, "POP FS #GP: saved RIP"
        CHECK [exc_rsp], rbx, 21, "POP FS #GP: saved RSP (the pop undone)"
        add rsp, 8

        ; MOV DS of a system descriptor (the TSS's): #GP(selector) at the MOV, DS unchanged
        mov ax, 0x30
        EXPECT 13, .r22
.f22:   mov ds, ax
        FAIL 22, "MOV DS of the TSS selector did not fault"
.r22:   CHECK [exc_err], 0x30, 23, "MOV DS, TSS #GP: error code"
        CHECK [exc_rip], .f22, 24, "MOV DS, TSS #GP: saved RIP"
        mov rax, ds
        CHECK rax, KDATA, 25, "DS after the faulting MOV"

        ; LFS, LGS, LSS (m16:32: the REX.W form m16:64 is Intel's only, and not the substrate's):
        ; the offset into the register, the selector into the segment register
        mov dword [farptr], 0x55667788
        mov word [farptr + 4], KDATA
        xor eax, eax
        mov fs, ax
        mov gs, ax
        mov rbx, -1
        lfs ebx, [farptr]
        CHECK rbx, 0x55667788, 26, "LFS: the offset"
        mov rax, fs
        CHECK rax, KDATA, 27, "LFS: the selector"
        lgs ecx, [farptr]
        mov rax, gs
        CHECK rax, KDATA, 28, "LGS: the selector"
        mov [farptr], esp               ; the stack is below 4 GiB
        mov rbx, rsp
        lss esp, [farptr]
        CHECK rsp, rbx, 29, "LSS: RSP"
        mov rax, ss
        CHECK rax, KDATA, 30, "LSS: the selector"

        ; PUSH CS, PUSH DS and POP ES do not exist in 64-bit mode: #UD at the opcode
        EXPECT 6, .r31
.f31:   db 0x0e                         ; PUSH CS
        FAIL 31, "PUSH CS did not fault"
.r31:   CHECK [exc_rip], .f31, 32, "PUSH CS #UD: saved RIP"
        NOT_VMM [exc_rip], 33, "PUSH CS #UD: saved RIP"
        CHECK rsp, rbx, 34, "RSP after PUSH CS #UD"
        EXPECT 6, .r35
.f35:   db 0x1e                         ; PUSH DS
        FAIL 35, "PUSH DS did not fault"
.r35:   CHECK [exc_rip], .f35, 36, "PUSH DS #UD: saved RIP"
        EXPECT 6, .r37
.f37:   db 0x07                         ; POP ES
        FAIL 37, "POP ES did not fault"
.r37:   CHECK [exc_rip], .f37, 38, "POP ES #UD: saved RIP"

        xor eax, eax
        mov fs, ax
        mov gs, ax
        CHECK [exc_count], 5, 39, "number of exceptions"
        PASS
