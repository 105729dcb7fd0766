/* ptemod: Adams & Agesen's kernel-mode nanobenchmark, N iterations (argument) run inside the
 * guest kernel through the benchmark system call, as the paper runs it. */
#include "libc.h"

int main(int argc, char** argv) {
  uint64_t n = parse_u64(argc > 1 ? argv[1] : 0, 1000);
  int64_t done = bench(BENCH_PTEMOD, n);
  if (done < 0) return 1;
  report_iterations("ptemod", n);
  return 0;
}
