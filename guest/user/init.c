/* init: runs the programs named on its command line one after another, each with its own
 * arguments, programs separated by ";" words:
 *     init syscall 10000 ; forkwait 100 ; selftest
 * Each runs in a child (fork, then exec); init waits for it (reaping any orphan that ends
 * meanwhile), reports its status, and finally exits with the status of the first program
 * that failed (0 when all succeeded). Its exit powers the machine off. */
#include "libc.h"

#define MAX_ARGS 16

static int64_t run(char** args) {
  int64_t pid = fork();
  if (pid < 0) return pid;
  if (pid == 0) {
    int64_t error = exec(args);
    puts_fd(1, "init: cannot run ");
    puts_fd(1, args[0]);
    puts_fd(1, ": error ");
    put_dec(1, -error);
    puts_fd(1, "\n");
    exit(127);
  }
  for (;;) {
    int32_t status = 0;
    int64_t done = wait(&status);
    if (done < 0) return done;
    if (done == pid) return status;
  }
}

int main(int argc, char** argv) {
  int64_t first_failure = 0;
  int programs = 0;
  for (int i = 1; i < argc;) {
    char* args[MAX_ARGS + 1];
    int n = 0;
    while (i < argc && strcmp(argv[i], ";") != 0) {
      if (n < MAX_ARGS) args[n++] = argv[i];
      ++i;
    }
    ++i; /* the ";" */
    if (n == 0) continue;
    args[n] = 0;
    ++programs;
    int64_t status = run(args);
    puts_fd(1, "init: ");
    puts_fd(1, args[0]);
    puts_fd(1, " exited with status ");
    put_dec(1, status);
    puts_fd(1, "\n");
    if (status != 0 && first_failure == 0) first_failure = status < 0 ? 1 : status;
  }
  puts_fd(1, "init: ");
  put_dec(1, programs);
  puts_fd(1, programs == 1 ? " program run, " : " programs run, ");
  puts_fd(1, first_failure ? "powering off with the first failure\n" : "all succeeded\n");
  return (int)first_failure;
}
