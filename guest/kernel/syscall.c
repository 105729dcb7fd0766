/* System calls (docs/guest-kernel.md) and the kernel-mode nanobenchmarks of Adams & Agesen. */
#include "kernel.h"

enum {
  SYS_WRITE = 0,
  SYS_EXIT = 1,
  SYS_GETPID = 2,
  SYS_TIME = 3,
  SYS_BENCH = 4,
  SYS_FORK = 5,
  SYS_WAIT = 6,
  SYS_YIELD = 7,
  SYS_SBRK = 8,
  SYS_EXEC = 9,
};
#define EBADF 9
#define EFAULT 14
#define EINVAL 22
#define ENOSYS 38
#define WRITE_MAX 65536 /* longer writes are short writes */

/* An unmapped user address with no demand-zero area behind it: pgfault's target. */
#define BENCH_FAULT_VA 0x00007f0000000000ull

/* Kernel instructions allowed to fault, each with where to resume: the exception table. */
#define EXCEPTION_FIXUP(fault_label, resume_label)   \
  ".pushsection __ex_table, \"a\"\n.balign 8\n.quad " \
  #fault_label ", " #resume_label "\n.popsection\n"

struct exception_fixup_entry {
  uint64_t fault_rip, resume_rip;
};
extern const struct exception_fixup_entry __ex_table_start[], __ex_table_end[];

uint64_t exception_fixup(uint64_t rip) {
  for (const struct exception_fixup_entry* e = __ex_table_start; e < __ex_table_end; ++e) {
    if (e->fault_rip == rip) return e->resume_rip;
  }
  return 0;
}

enum { BENCH_IN = 0, BENCH_CR8WRITE = 1, BENCH_CALLRET = 2, BENCH_PTEMOD = 3, BENCH_PGFAULT = 4, BENCH_DIVZERO = 5 };

static __attribute__((noinline)) uint64_t bench_leaf(uint64_t x) {
  __asm__ volatile("" : "+r"(x)); /* keep the call */
  return x + 1;
}

/* `iterations` of one privileged operation, run here because the paper runs them in the
 * guest kernel. Returns the iterations done. */
static int64_t bench_kernel(uint64_t kind, uint64_t iterations) {
  if (iterations > (1ull << 32)) return -EINVAL;
  switch (kind) {
    case BENCH_IN:
      for (uint64_t i = 0; i < iterations; ++i) (void)inb(0x80);
      return (int64_t)iterations;
    case BENCH_CR8WRITE:
      for (uint64_t i = 0; i < iterations; ++i) {
        uint64_t v = i & 1 ? 0 : 1; /* a level no pending interrupt is waiting on */
        __asm__ volatile("mov %0, %%cr8" : : "r"(v));
      }
      __asm__ volatile("mov %0, %%cr8" : : "r"(0ull));
      return (int64_t)iterations;
    case BENCH_CALLRET: {
      uint64_t x = 0;
      for (uint64_t i = 0; i < iterations; ++i) x = bench_leaf(x);
      return (int64_t)x;
    }
    case BENCH_PTEMOD: {
      /* Rewrite the PTE of the top user stack page with its own value (as the paper). */
      uint64_t* pte = pte_lookup(current->cr3, USER_STACK_TOP - 0x1000, 0);
      if (!pte) return -EINVAL;
      for (uint64_t i = 0; i < iterations; ++i) {
        uint64_t v = *(volatile uint64_t*)pte;
        *(volatile uint64_t*)pte = v;
      }
      return (int64_t)iterations;
    }
    case BENCH_PGFAULT: {
      /* A true page fault: the handler finds no mapping and no area behind the address and
       * resumes through the exception table. */
      uint64_t completed = 0;
      for (uint64_t i = 0; i < iterations; ++i) {
        uint64_t v = 0;
        __asm__ volatile("1: movq (%2), %0\n"
                         "incq %1\n"
                         "2:\n" EXCEPTION_FIXUP(1b, 2b)
                         : "+r"(v), "+r"(completed)
                         : "r"(BENCH_FAULT_VA)
                         : "memory");
      }
      return (int64_t)(iterations - completed); /* every load faults and skips the increment */
    }
    case BENCH_DIVZERO: {
      uint64_t completed = 0;
      for (uint64_t i = 0; i < iterations; ++i) {
        __asm__ volatile("xorl %%edx, %%edx\n"
                         "movl $1, %%eax\n"
                         "1: divq %1\n"
                         "incq %0\n"
                         "2:\n" EXCEPTION_FIXUP(1b, 2b)
                         : "+r"(completed)
                         : "r"(0ull)
                         : "rax", "rdx");
      }
      return (int64_t)(iterations - completed); /* every divide faults */
    }
    default: return -EINVAL;
  }
}

static int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len) {
  if (fd != 1 && fd != 2) return -EBADF;
  if (len > WRITE_MAX) len = WRITE_MAX;
  if (!user_range_ok(buf, len, 0)) return -EFAULT;
  const char* p = (const char*)buf;
  for (uint64_t i = 0; i < len; ++i) kputc(p[i]);
  return (int64_t)len;
}

static int64_t do_syscall(struct syscall_frame* f) {
  switch (f->nr) {
    case SYS_WRITE: return sys_write(f->a0, f->a1, f->a2);
    case SYS_EXIT: process_exit((uint8_t)f->a0);
    case SYS_GETPID: return (int64_t)current->pid;
    case SYS_TIME: return (int64_t)rdtsc(); /* virtual nanoseconds (1 GHz TSC) */
    case SYS_BENCH: return bench_kernel(f->a0, f->a1);
    case SYS_FORK: return process_fork(f);
    case SYS_WAIT: return process_wait(f->a0);
    case SYS_YIELD: process_yield(); return 0;
    case SYS_SBRK: return process_sbrk((int64_t)f->a0);
    case SYS_EXEC: return process_exec(f, f->a0);
    default: return -ENOSYS;
  }
}

int64_t syscall_dispatch(struct syscall_frame* f) {
  int64_t result = do_syscall(f);
  cli();
  if (need_resched) schedule();
  return result;
}
