/* init, first step: proves user mode works end to end: system calls, the kernel's user-pointer
 * checks, and timer interrupts taken at CPL 3 (the loop below runs across several ticks). */
#include "libc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  puts_fd(1, "init: hello from user mode, pid ");
  put_dec(1, getpid());
  puts_fd(1, "\n");
  /* A kernel address and an unmapped address must be refused, not followed. */
  ssize_t bad_kernel = write(1, (const void*)0xffffffff80100000ull, 16);
  ssize_t bad_unmapped = write(1, (const void*)0x10000000ull, 16);
  puts_fd(1, "init: bad pointers refused with ");
  put_dec(1, bad_kernel);
  puts_fd(1, " and ");
  put_dec(1, bad_unmapped);
  puts_fd(1, "\n");
  volatile uint64_t sum = 0;
  for (uint64_t i = 0; i < 200000; ++i) sum += i;  /* ~1 ms of virtual time: timer ticks land here */
  puts_fd(1, "init: done\n");
  return (bad_kernel == -14 && bad_unmapped == -14) ? 0 : 1;
}
