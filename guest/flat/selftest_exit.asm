; selftest_exit: the smallest guest. Prints a line and exits with status 7, so the test
; sees both the COM1 output and a non-zero debug-exit status make it out of hvsim.
%define GUEST "selftest_exit"
%include "flat.inc"

start:
        PRINT "hello from flat guest", 10
        EXIT 7
