/* syscall: Adams & Agesen's system-call nanobenchmark: N SYSCALL/SYSRET round trips from user
 * mode (getpid, the cheapest call), N the argument. */
#include "libc.h"

int main(int argc, char** argv) {
  uint64_t n = parse_u64(argc > 1 ? argv[1] : 0, 1000);
  for (uint64_t i = 0; i < n; ++i) getpid();
  report_iterations("syscall", n);
  return 0;
}
