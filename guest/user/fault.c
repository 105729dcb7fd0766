/* fault: a user program that executes an invalid instruction. The kernel must end it with a
 * one-line message (status 128 + 6) instead of panicking. */
#include "libc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  puts_fd(1, "fault: about to execute ud2\n");
  __asm__ volatile("ud2");
  puts_fd(1, "fault: still alive (wrong)\n");
  return 0;
}
