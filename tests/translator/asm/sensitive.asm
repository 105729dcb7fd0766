; One of each sensitive or privileged instruction the translator must never copy IDENT, in
; the order of kExpected in sensitive_test.cpp (the comment names the expected kind).
bits 64
org 0xffffffff80100000

    cli                         ; Cli
    sti                         ; Sti
    pushfq                      ; Pushf
    o16 pushf                   ; Pushf
    popfq                       ; Popf
    mov cr0, rax                ; MovToCr
    mov cr2, rax                ; MovToCr
    mov cr3, rax                ; MovToCr
    mov cr4, rax                ; MovToCr
    mov rax, cr0                ; MovFromCr
    mov rax, cr2                ; MovFromCr
    mov rax, cr3                ; MovFromCr
    mov rax, cr4                ; MovFromCr
    mov cr8, rax                ; MovToCr8
    mov rax, cr8                ; MovFromCr8
    mov dr7, rax                ; MovDr
    mov rax, dr6                ; MovDr
    lgdt [rax]                  ; LoadDescriptorTable
    lidt [rel table]            ; LoadDescriptorTable (RIP-relative: still a callout)
    sgdt [rax]                  ; StoreDescriptorTable
    sidt [rel table]            ; StoreDescriptorTable
    lldt ax                     ; LoadSystemSegment
    ltr ax                      ; LoadSystemSegment
    sldt ax                     ; StoreSystemSegment
    str ax                      ; StoreSystemSegment
    smsw ax                     ; Smsw
    lmsw ax                     ; Lmsw
    clts                        ; Clts
    lar eax, cx                 ; SegmentCheck
    lsl eax, cx                 ; SegmentCheck
    verr ax                     ; SegmentCheck
    verw ax                     ; SegmentCheck
    push fs                     ; PushSegment
    push gs                     ; PushSegment
    pop fs                      ; PopSegment
    pop gs                      ; PopSegment
    mov ds, ax                  ; MovSegment
    mov ss, ax                  ; MovSegment
    mov ax, cs                  ; MovSegment
    mov eax, fs                 ; MovSegment
    lss rax, [rbx]              ; LoadFarPointer
    lfs eax, [rbx]              ; LoadFarPointer
    lgs rax, [rbx]              ; LoadFarPointer
    call far [rax]              ; FarTransfer
    jmp far [rax]               ; FarTransfer
    retf                        ; FarTransfer
    retf 8                      ; FarTransfer
    int 0x80                    ; IntN
    int3                        ; Int3
    int1                        ; Int1
    iretq                       ; Iret
    iretd                       ; Iret
    o64 sysret                  ; Sysret
    sysret                      ; Sysret
    syscall                     ; Syscall
    sysenter                    ; Sysenter
    sysexit                     ; Sysenter
    swapgs                      ; Swapgs
    rdmsr                       ; Rdmsr
    wrmsr                       ; Wrmsr
    in al, 0x80                 ; PortIo
    in eax, dx                  ; PortIo
    out 0x80, al                ; PortIo
    out dx, ax                  ; PortIo
    insb                        ; StringIo
    rep insd                    ; StringIo
    outsb                       ; StringIo
    rep outsw                   ; StringIo
    hlt                         ; Hlt
    invlpg [rax]                ; Invlpg
    invpcid rax, [rbx]          ; Invlpg
    cpuid                       ; Cpuid
    rdtsc                       ; Rdtsc
    rdtscp                      ; Rdtscp
    rdpid rax                   ; Rdpid
    rdpmc                       ; Rdpmc
    wbinvd                      ; CacheControl
    invd                        ; CacheControl
    db 0xf3, 0x0f, 0x09         ; CacheControl (wbnoinvd)
    rdrand rax                  ; Random
    rdseed eax                  ; Random
    pause                       ; Pause
    xsetbv                      ; Xsetbv
    xgetbv                      ; Xgetbv
    monitor                     ; MonitorMwait
    mwait                       ; MonitorMwait
    db 0x66, 0x0f, 0xae, 0xf0   ; MonitorMwait (tpause eax)
    vmcall                      ; Vmcall
    vmmcall                     ; Vmcall
    rdfsbase rax                ; FsGsBase
    wrgsbase rax                ; FsGsBase
    rdpkru                      ; Pkru
    wrpkru                      ; Pkru
    clac                        ; Smap
    stac                        ; Smap
    vmxon [rax]                 ; Virtualization
    vmxoff                      ; Virtualization
    vmlaunch                    ; Virtualization
    vmread rax, rbx             ; Virtualization
    vmfunc                      ; Virtualization
    vmrun                       ; Virtualization
    getsec                      ; Virtualization
    rsm                         ; Virtualization
    xbegin .abort               ; OtherRelative
.abort:
    xsaves [rax]                ; OtherPrivileged
    xrstors [rax]               ; OtherPrivileged
end:

table: dq 0, 0
