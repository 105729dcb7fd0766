; triple_fault: with an empty IDT (limit 0) a UD2 cannot be delivered (#GP), nor can
; that #GP (#DF), nor the #DF: the processor shuts down.  hvsim must report the
; triple fault and exit with status 120; the guest must never get past the UD2.
%define GUEST "triple_fault"
%include "flat.inc"

start:
        PRINT "triple_fault: UD2 with an empty IDT next", 10
        lidt [empty_idtr]
        ud2
        FAIL 1, "execution continued after UD2 with an empty IDT"

empty_idtr:
        dw 0
        dq 0
