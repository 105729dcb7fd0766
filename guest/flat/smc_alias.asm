; smc_alias: code rewritten through a second mapping of its frame must run in its new form.
; A kernel loads a program into a frame through its direct map while the program runs at
; another address, and frames that held one program's code are reused for the next one:
; hvsim must notice writes to a code frame whatever linear address they go through.
; (Found by the guest kernel: a freshly exec'd program ran the previous one's code.)
%define GUEST "smc_alias"
%include "flat.inc"

ALIAS   equ 0x8000000000            ; PML4[1] = PML4[0]: a second view of the first 512 GiB

start:
        call idt_init
        call target
        CHECK rax, 1, 1, "the first version of the code"

        mov rax, [0x1000]           ; alias the identity map one PML4 slot higher
        mov [0x1008], rax
        mov rax, cr3
        mov cr3, rax

        mov rdi, ALIAS + target + 1 ; rewrite the immediate through the alias
        mov dword [rdi], 2
        call target
        CHECK rax, 2, 2, "code rewritten through an alias, run at its own address"

        mov rdi, ALIAS + target + 1 ; again, now that the frame is known to be rewritten
        mov dword [rdi], 3
        call target
        CHECK rax, 3, 3, "code rewritten a second time"

        mov rdi, ALIAS + target     ; and run the rewritten code at the alias too
        mov dword [rdi + 1], 4
        call rdi
        CHECK rax, 4, 4, "rewritten code run at the alias"
        PASS

        align 4096
target: mov eax, 1
        ret
