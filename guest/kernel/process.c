/* Processes and the scheduler.
 * - A fixed table of processes, each with its own kernel stack; the kernel is not preemptive:
 *   a process in the kernel runs until it blocks (wait), yields, or returns to user mode.
 * - The local APIC timer preempts user code: on a tick at CPL 3 after a full time slice the
 *   next runnable process (round robin over the table) gets the CPU; a tick in the kernel only
 *   sets need_resched, honoured on the way out of the system call.
 * - fork shares the address space copy-on-write; exit frees it and leaves a zombie for the
 *   parent's wait; orphans go to init (pid 1), whose exit powers the machine off. */
#include "kernel.h"

#define KERNEL_STACK_SIZE 16384
#define SLICE_TICKS 1
#define EAGAIN 11
#define ENOMEM 12
#define ECHILD 10
#define EFAULT 14
#define EINVAL 22

static struct process table[MAX_PROCESSES];
static uint8_t kernel_stacks[MAX_PROCESSES][KERNEL_STACK_SIZE] __attribute__((aligned(16)));
struct process* current;
volatile int need_resched;
static uint64_t next_pid = 1;
static uint64_t slice_start;
static uint64_t boot_sp; /* kmain's stack, left for good by the first switch */

uint64_t syscall_stack_top; /* read by syscall_entry: the running process's kernel stack */

extern void syscall_entry(void);
extern void switch_to(uint64_t* save_sp, uint64_t new_sp);
extern void process_first_return(void);

static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void syscall_init(void) {
  wrmsr(0xc0000081, (0x18ull << 48) | (0x08ull << 32)); /* STAR */
  wrmsr(0xc0000082, (uint64_t)syscall_entry);           /* LSTAR */
  wrmsr(0xc0000084, 0x200 | 0x100 | 0x400 | 0x40000);  /* FMASK: IF, TF, DF, AC */
}

void copy_name(char* dst, const char* src, uint64_t size) {
  uint64_t i = 0;
  for (; src[i] && i + 1 < size; ++i) dst[i] = src[i];
  dst[i] = 0;
}

static uint64_t kernel_stack_top(const struct process* p) {
  return (uint64_t)kernel_stacks[p - table] + KERNEL_STACK_SIZE;
}

static struct syscall_frame* frame_of(const struct process* p) {
  return (struct syscall_frame*)(kernel_stack_top(p) - sizeof(struct syscall_frame));
}

/* The first switch to `p` resumes in process_first_return, which leaves the kernel through
 * the system-call exit path with RAX = 0 and the user state in p's frame. */
static void prepare_first_return(struct process* p) {
  uint64_t* sp = (uint64_t*)frame_of(p);
  *--sp = (uint64_t)process_first_return;
  for (int i = 0; i < 6; ++i) *--sp = 0; /* rbx, rbp, r12-r15 for switch_to */
  p->kernel_sp = (uint64_t)sp;
}

static struct process* find_free_slot(void) {
  for (int i = 0; i < MAX_PROCESSES; ++i) {
    if (table[i].state == P_FREE) return &table[i];
  }
  return 0;
}

static struct process* find_pid(uint64_t pid) {
  for (int i = 0; i < MAX_PROCESSES; ++i) {
    if (table[i].state != P_FREE && table[i].pid == pid) return &table[i];
  }
  return 0;
}

void schedule(void) {
  need_resched = 0;
  slice_start = timer_ticks;
  int from = current ? (int)(current - table) : MAX_PROCESSES - 1;
  struct process* next = 0;
  for (int k = 1; k <= MAX_PROCESSES && !next; ++k) {
    struct process* p = &table[(from + k) % MAX_PROCESSES];
    if (p->state == P_RUNNABLE) next = p;
  }
  if (!next) {
    if (current && current->state == P_RUNNING) return;
    kputs("kernel panic: no runnable process\n");
    power_off(3);
  }
  struct process* prev = current;
  if (prev && prev->state == P_RUNNING) prev->state = P_RUNNABLE;
  next->state = P_RUNNING;
  current = next;
  if (next == prev) return;
  uint64_t top = kernel_stack_top(next);
  tss_set_rsp0(top);
  syscall_stack_top = top;
  load_cr3(next->cr3);
  switch_to(prev ? &prev->kernel_sp : &boot_sp, next->kernel_sp);
}

void timer_tick(const struct interrupt_frame* f) {
  if (!current || timer_ticks - slice_start < SLICE_TICKS) return;
  if ((f->cs & 3) == 3) schedule(); /* preempt user code */
  else need_resched = 1;            /* the kernel is not preemptive */
}

void process_start_first(const char* name, const uint8_t* elf, uint64_t size, const char* cmdline) {
  struct process* p = &table[0];
  uint64_t pml4, entry, end;
  if (!load_program(elf, size, &pml4, &entry, &end)) {
    kputs("kernel: ");
    kputs(name);
    kputs(": not a valid program\n");
    power_off(5);
  }
  p->pid = next_pid++;
  p->parent_pid = 0;
  p->cr3 = pml4;
  p->heap_start = p->brk = end;
  copy_name(p->name, name, sizeof p->name);

  /* The command line's words are the first program's argv. */
  static char words[ARG_BYTES];
  const char* args[MAX_ARGS];
  uint64_t argc = 0, used = 0;
  for (const char* c = cmdline; *c && argc < MAX_ARGS;) {
    while (*c == ' ') ++c;
    if (!*c || used + 1 >= sizeof words) break;
    args[argc++] = words + used;
    while (*c && *c != ' ') {
      if (used + 1 < sizeof words) words[used++] = *c; /* a word too long is cut */
      ++c;
    }
    words[used++] = 0;
  }
  load_cr3(pml4);
  uint64_t argv;
  struct syscall_frame* f = frame_of(p);
  f->rsp = push_args(argc, args, &argv);
  f->rip = entry;
  f->rflags = 0x202;
  f->a0 = argc;
  f->a1 = argv;
  prepare_first_return(p);
  p->state = P_RUNNABLE;
  cli();
  schedule();
  __builtin_unreachable();
}

int64_t process_fork(struct syscall_frame* f) {
  uint64_t irql = irql_raise();
  struct process* child = find_free_slot();
  if (!child) {
    irql_restore(irql);
    return -EAGAIN;
  }
  uint64_t pml4 = uspace_clone_cow(current->cr3);
  load_cr3(current->cr3); /* the parent's writable pages just became read-only */
  if (!pml4) {
    irql_restore(irql);
    return -ENOMEM;
  }
  child->pid = next_pid++;
  child->parent_pid = current->pid;
  child->cr3 = pml4;
  child->heap_start = current->heap_start;
  child->brk = current->brk;
  child->exit_status = 0;
  copy_name(child->name, current->name, sizeof child->name);
  *frame_of(child) = *f;
  prepare_first_return(child);
  child->state = P_RUNNABLE;
  irql_restore(irql);
  return (int64_t)child->pid;
}

void process_exit(uint8_t status) {
  struct process* p = current;
  if (p->pid == 1) {
    kputs("kernel: ");
    kputs(p->name);
    kputs(" exited with status ");
    kputdec(status);
    kputs("\n");
    power_off(status);
  }
  uint64_t irql = irql_raise();
  uint64_t cr3 = p->cr3;
  p->cr3 = kernel_cr3;
  load_cr3(kernel_cr3);
  uspace_free(cr3);
  struct process* init = find_pid(1);
  for (int i = 0; i < MAX_PROCESSES; ++i) {
    struct process* child = &table[i];
    if (child->state == P_FREE || child->parent_pid != p->pid) continue;
    child->parent_pid = 1; /* orphans go to init */
    if (child->state == P_ZOMBIE && init && init->state == P_WAITING) init->state = P_RUNNABLE;
  }
  p->exit_status = status;
  p->state = P_ZOMBIE;
  struct process* parent = find_pid(p->parent_pid);
  if (parent && parent->state == P_WAITING) parent->state = P_RUNNABLE;
  irql_restore(irql);
  cli();
  schedule();
  __builtin_unreachable();
}

/* A fault in user mode ends the process with status 128 + vector, and one line on the
 * console; the kernel goes on. */
void process_fault(const struct interrupt_frame* f) {
  kputs("kernel: ");
  kputs(current->name);
  kputs(" (pid ");
  kputdec(current->pid);
  kputs(") killed by exception ");
  kputdec(f->vector);
  kputs(" at rip ");
  kputhex(f->rip);
  kputs("\n");
  process_exit((uint8_t)(128 + f->vector));
}

int64_t process_wait(uint64_t status_ptr) {
  if (status_ptr && !user_range_ok(status_ptr, sizeof(int32_t), 1)) return -EFAULT; /* before a child is reaped */
  for (;;) {
    uint64_t irql = irql_raise();
    int children = 0;
    for (int i = 0; i < MAX_PROCESSES; ++i) {
      struct process* child = &table[i];
      if (child->state == P_FREE || child->parent_pid != current->pid) continue;
      ++children;
      if (child->state != P_ZOMBIE) continue;
      uint64_t pid = child->pid;
      int32_t status = child->exit_status;
      child->state = P_FREE;
      irql_restore(irql);
      if (status_ptr) {
        if (!user_range_ok(status_ptr, sizeof status, 1)) return -EFAULT;
        *(int32_t*)status_ptr = status;
      }
      return (int64_t)pid;
    }
    if (!children) {
      irql_restore(irql);
      return -ECHILD;
    }
    current->state = P_WAITING;
    irql_restore(irql);
    cli();
    schedule();
    sti();
  }
}

void process_yield(void) {
  cli();
  current->state = P_RUNNABLE;
  schedule();
  sti();
}

int64_t process_sbrk(int64_t increment) {
  uint64_t old = current->brk;
  uint64_t next = old + (uint64_t)increment;
  if (increment > 0 && (next < old || next > current->heap_start + USER_HEAP_MAX)) return -ENOMEM;
  if (increment < 0 && (next > old || next < current->heap_start)) return -EINVAL;
  uint64_t irql = irql_raise();
  if (increment < 0) uspace_unmap_range(current->cr3, (next + 0xfff) & ~0xfffull, old);
  current->brk = next;
  irql_restore(irql);
  return (int64_t)old;
}
