/* selftest: checks the kernel's invariants from user space, each in words on the console:
 * separate address spaces, copy-on-write isolation, demand-zero heap, bad user pointers
 * refused, privileged instructions and port I/O faulting at CPL 3, faults ending only the
 * offending process, a full process table and memory exhaustion handled without harm to
 * others, and the timer preempting a busy loop. Prints "selftest: all passed" and
 * exits 0, or names what failed and exits 1. */
#include "libc.h"

#define PAGE 4096
#define GP 13 /* general protection */
#define PF 14 /* page fault */
#define DE 0  /* divide error */

static int failures;
static volatile int marker = 1;
static uint8_t shared[8 * PAGE];

static void check(const char* what, int ok) {
  puts_fd(1, "selftest: ");
  puts_fd(1, what);
  puts_fd(1, ok ? ": ok\n" : ": FAILED\n");
  if (!ok) ++failures;
}

/* The exit status of a child running `body` (which may die), -1 if fork or wait failed. */
static int32_t in_child(void (*body)(void)) {
  int64_t pid = fork();
  if (pid == 0) {
    body();
    exit(0);
  }
  int32_t status = -1;
  if (pid < 0 || wait(&status) != pid) return -1;
  return status;
}

static void nothing(void) {}
/* After a stress check: the kernel still forks, runs and reaps a child. */
static int fork_and_wait_ok(void) { return in_child(nothing) == 0; }

static int64_t parent_pid;
static void child_writes_marker(void) {
  marker = 2;
  exit(getpid() != parent_pid && marker == 2 ? 0 : 1);
}

static void separate_address_spaces(void) {
  parent_pid = getpid();
  int32_t status = in_child(child_writes_marker);
  check("separate address spaces (the child's write stays in the child)", status == 0 && marker == 1);
}

static uint8_t pattern(uint64_t i, int generation) { return (uint8_t)(i * 7 + (uint64_t)generation * 13); }

static void cow_isolation(void) {
  for (uint64_t i = 0; i < sizeof shared; ++i) shared[i] = pattern(i, 0);
  int64_t pid = fork();
  if (pid == 0) {
    /* The parent rewrote its copy before we ran: we must still see generation 0. */
    for (uint64_t i = 0; i < sizeof shared; ++i) {
      if (shared[i] != pattern(i, 0)) exit(1);
    }
    for (uint64_t i = 0; i < sizeof shared; ++i) shared[i] = pattern(i, 2);
    exit(0);
  }
  for (uint64_t i = 0; i < sizeof shared; i += 2) shared[i] = pattern(i, 1); /* every page, half its bytes */
  int32_t status = -1;
  int ok = pid > 0 && wait(&status) == pid && status == 0;
  for (uint64_t i = 0; i < sizeof shared; ++i) ok &= shared[i] == pattern(i, (i % 2) ? 0 : 1);
  check("copy-on-write isolation between parent and child", ok);
}

static void demand_zero_heap(void) {
  uint8_t* heap = sbrk(16 * PAGE);
  int ok = heap != (void*)-1;
  for (uint64_t i = 0; ok && i < 16 * PAGE; i += 512) ok &= heap[i] == 0;
  for (uint64_t i = 0; ok && i < 16 * PAGE; i += PAGE) heap[i] = 0xab;
  ok &= sbrk(-16 * PAGE) != (void*)-1 && sbrk(16 * PAGE) == heap; /* released, then fresh again */
  for (uint64_t i = 0; ok && i < 16 * PAGE; i += PAGE) ok &= heap[i] == 0;
  check("demand-zero heap through sbrk", ok);
}

static void bad_pointers(void) {
  const void* kernel = (const void*)0xffffffff80100000ull;
  char* missing_program[] = {"no-such-program", 0};
  char* bad_string[] = {(char*)0xffff800000000000ull, 0};
  int ok = write(1, kernel, 16) == -EFAULT;
  ok &= write(1, (const void*)0x10000000ull, 16) == -EFAULT;       /* unmapped */
  ok &= write(1, (const void*)0x00007fffffffff00ull, 512) == -EFAULT; /* runs past the user half */
  ok &= wait((int32_t*)kernel) == -EFAULT;
  ok &= wait((int32_t*)(uint64_t)&check) == -EFAULT; /* read-only program text */
  ok &= exec((char* const*)kernel) == -EFAULT;
  ok &= exec(bad_string) == -EFAULT;
  ok &= exec(missing_program) == -ENOENT;
  ok &= wait(0) == -ECHILD;
  check("bad user pointers are refused", ok);
}

static void do_cli(void) { __asm__ volatile("cli"); }
static void do_hlt(void) { __asm__ volatile("hlt"); }
static void do_mov_cr3(void) { __asm__ volatile("mov %0, %%cr3" : : "r"(0ull)); }
static void do_in(void) { __asm__ volatile("inb $0x80, %%al" : : : "rax"); }
static void do_out(void) { __asm__ volatile("outb %%al, $0x80" : : "a"(0)); }
static void do_wrmsr(void) { __asm__ volatile("wrmsr" : : "c"(0xc0000082), "a"(0), "d"(0)); }

static void privileged_instructions(void) {
  int ok = in_child(do_cli) == 128 + GP;
  ok &= in_child(do_hlt) == 128 + GP;
  ok &= in_child(do_mov_cr3) == 128 + GP;
  ok &= in_child(do_wrmsr) == 128 + GP;
  check("privileged instructions fault at CPL 3", ok);
  ok = in_child(do_in) == 128 + GP;
  ok &= in_child(do_out) == 128 + GP;
  check("port I/O faults at CPL 3 (IOPL 0, no I/O bitmap)", ok);
}

static void do_divide(void) { __asm__ volatile("divq %0" : : "r"(0ull), "a"(1ull), "d"(0ull)); }
static void do_read_kernel(void) { (void)*(volatile uint64_t*)0xffffffff80100000ull; }
static void do_write_text(void) { *(volatile uint8_t*)(uint64_t)&check = 0xc3; }
static void do_null(void) {
  uint64_t address = 8;
  __asm__ volatile("" : "+r"(address)); /* a null-page access the compiler cannot see */
  (void)*(volatile uint64_t*)address;
}

static void faults_kill_only_the_offender(void) {
  int ok = in_child(do_divide) == 128 + DE;
  ok &= in_child(do_read_kernel) == 128 + PF;
  ok &= in_child(do_write_text) == 128 + PF;
  ok &= in_child(do_null) == 128 + PF;
  check("faults end only the offending process", ok && getpid() == parent_pid);
}

static void full_process_table(void) {
  /* Children exit at once and stay zombies until reaped: the table fills up. */
  int64_t forked = 0, refused = 0;
  for (int i = 0; i < 64 && !refused; ++i) {
    int64_t pid = fork();
    if (pid == 0) exit(7);
    if (pid > 0) ++forked;
    else refused = pid;
  }
  int64_t reaped = 0, all_seven = 1;
  for (;;) {
    int32_t status = 0;
    if (wait(&status) < 0) break;
    ++reaped;
    all_seven &= status == 7;
  }
  check("a full process table refuses fork (-EAGAIN) and zombies are reaped",
        refused == -EAGAIN && forked > 0 && reaped == forked && all_seven && fork_and_wait_ok());
}

static void exhaust_memory(void) {
  /* Touches heap pages until the kernel has no frame left for a demand-zero fault. */
  uint8_t* heap = sbrk(240ll << 20);
  if (heap == (void*)-1) exit(1);
  for (uint64_t i = 0;; i += PAGE) heap[i] = 1;
}

static void out_of_memory(void) {
  int32_t status = in_child(exhaust_memory);
  check("running out of memory ends only the process that did", status == 128 + 9 && fork_and_wait_ok());
}

static void timer_preemption(void) {
  int64_t pid = fork();
  if (pid == 0) {
    for (volatile uint64_t i = 0; i < 4000000; ++i) {
    } /* ~20 ms of virtual time without a system call */
    exit(0);
  }
  int64_t before = time_ns();
  yield(); /* the child runs; only the timer can give the CPU back before it finishes */
  int64_t after = time_ns();
  int32_t status = -1;
  int ok = pid > 0 && wait(&status) == pid && status == 0;
  int64_t child_done = time_ns();
  check("the timer preempts a busy loop", ok && after - before < 2000000 && child_done - before > 10000000);
}

int main(void) {
  separate_address_spaces();
  cow_isolation();
  demand_zero_heap();
  bad_pointers();
  privileged_instructions();
  faults_kill_only_the_offender();
  full_process_table();
  out_of_memory();
  timer_preemption();
  if (failures == 0) {
    puts_fd(1, "selftest: all passed\n");
    return 0;
  }
  puts_fd(1, "selftest: ");
  put_dec(1, failures);
  puts_fd(1, failures == 1 ? " check failed\n" : " checks failed\n");
  return 1;
}
