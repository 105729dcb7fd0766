/* forkwait: Adams & Agesen's process-creation macrobenchmark: N times, fork a child that exits
 * at once and wait for it (copy-on-write address spaces, page faults, context switches). */
#include "libc.h"

int main(int argc, char** argv) {
  uint64_t n = parse_u64(argc > 1 ? argv[1] : 0, 1000);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t pid = fork();
    if (pid == 0) exit(0);
    if (pid < 0) {
      puts_fd(2, "forkwait: fork failed\n");
      return 1;
    }
    int32_t status = -1;
    if (wait(&status) != pid || status != 0) {
      puts_fd(2, "forkwait: wait returned the wrong child or status\n");
      return 1;
    }
  }
  report_iterations("forkwait", n);
  return 0;
}
