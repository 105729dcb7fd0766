/* pgfault: Adams & Agesen's nanobenchmark, N iterations (argument) of a true page fault (an unmapped user address, no mapping behind it) taken and handled by the guest kernel, run inside the
 * guest kernel through the benchmark system call (the handler resumes through the kernel's
 * exception table). */
#include "libc.h"

int main(int argc, char** argv) {
  uint64_t n = parse_u64(argc > 1 ? argv[1] : 0, 1000);
  int64_t faults = bench(BENCH_PGFAULT, n);
  if (faults != (int64_t)n) return 1;
  report_iterations("pgfault", n);
  return 0;
}
