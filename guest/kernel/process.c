/* User processes, first step: one address space per process (kernel half shared), a static
 * ELF64 program loaded from the initrd, entry to CPL 3, and the system calls write, exit and
 * getpid with every user pointer checked. */
#include "kernel.h"

#define USER_TOP 0x0000800000000000ull
#define USER_STACK_TOP 0x00007ffffffff000ull
#define USER_STACK_PAGES 4

uint64_t syscall_stack_top;
static uint8_t syscall_stack[16384] __attribute__((aligned(16)));

static uint64_t current_cr3;
static uint64_t current_pid;
static const char* current_name = "?";

extern void syscall_entry(void);
extern __attribute__((noreturn)) void enter_user(uint64_t rip, uint64_t rsp, uint64_t argc, uint64_t argv);

static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void syscall_init(void) {
  syscall_stack_top = (uint64_t)(syscall_stack + sizeof syscall_stack);
  wrmsr(0xc0000081, (0x18ull << 48) | (0x08ull << 32)); /* STAR */
  wrmsr(0xc0000082, (uint64_t)syscall_entry);           /* LSTAR */
  wrmsr(0xc0000084, 0x200 | 0x100 | 0x400 | 0x40000);  /* FMASK: IF, TF, DF, AC */
}

/* The page-table entry for `va` in `pml4`, creating tables on the way when `create`. */
static uint64_t* pte_of(uint64_t pml4_pa, uint64_t va, int create) {
  uint64_t table = pml4_pa;
  for (int level = 3; level >= 1; --level) {
    uint64_t* entries = phys_ptr(table);
    uint64_t* e = &entries[(va >> (12 + 9 * level)) & 0x1ff];
    if (!(*e & PTE_P)) {
      if (!create) return 0;
      uint64_t pa = frame_alloc();
      if (!pa) return 0;
      *e = pa | PTE_P | PTE_W | PTE_U;
    }
    table = *e & 0x000ffffffffff000ull;
  }
  return &((uint64_t*)phys_ptr(table))[(va >> 12) & 0x1ff];
}

static int map_user_page(uint64_t pml4_pa, uint64_t va, uint64_t flags, uint64_t* frame) {
  uint64_t* pte = pte_of(pml4_pa, va, 1);
  if (!pte) return 0;
  if (!(*pte & PTE_P)) {
    uint64_t pa = frame_alloc();
    if (!pa) return 0;
    *pte = pa | PTE_P | PTE_U | flags;
  }
  *frame = *pte & 0x000ffffffffff000ull;
  return 1;
}

/* A user range the process may read (or write): below USER_TOP, every page present and
 * user-accessible (and writable). */
static int user_range_ok(uint64_t va, uint64_t len, int write) {
  if (len == 0) return 1;
  if (va >= USER_TOP || len > USER_TOP - va) return 0;
  for (uint64_t page = va & ~0xfffull; page < va + len; page += 0x1000) {
    uint64_t* pte = pte_of(current_cr3, page, 0);
    if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (write && !(*pte & PTE_W))) return 0;
  }
  return 1;
}

struct elf_phdr {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Loads a static ELF64 executable into a new address space; returns 0 on a malformed file. */
static int load_program(const uint8_t* elf, uint64_t size, uint64_t* pml4_out, uint64_t* entry_out) {
  if (size < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2) return 0;
  uint16_t machine = *(const uint16_t*)(elf + 18), phentsize = *(const uint16_t*)(elf + 54),
           phnum = *(const uint16_t*)(elf + 56);
  uint64_t entry = *(const uint64_t*)(elf + 24), phoff = *(const uint64_t*)(elf + 32);
  if (machine != 62 || phentsize != sizeof(struct elf_phdr) || phnum == 0 || phnum > 32) return 0;
  if (phoff > size || (uint64_t)phnum * phentsize > size - phoff) return 0;

  uint64_t pml4 = frame_alloc();
  if (!pml4) return 0;
  const uint64_t* kernel = phys_ptr(kernel_cr3);
  uint64_t* mine = phys_ptr(pml4);
  for (int i = 256; i < 512; ++i) mine[i] = kernel[i];

  for (uint16_t i = 0; i < phnum; ++i) {
    const struct elf_phdr* ph = (const struct elf_phdr*)(elf + phoff + (uint64_t)i * phentsize);
    if (ph->type != 1 || ph->memsz == 0) continue;
    if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset) return 0;
    if (ph->vaddr >= USER_TOP || ph->memsz > USER_TOP - ph->vaddr || ph->vaddr < 0x1000) return 0;
    uint64_t flags = (ph->flags & 2) ? PTE_W : 0;
    if (!(ph->flags & 1)) flags |= PTE_NX;
    for (uint64_t va = ph->vaddr & ~0xfffull; va < ph->vaddr + ph->memsz; va += 0x1000) {
      uint64_t frame;
      if (!map_user_page(pml4, va, flags, &frame)) return 0;
      uint8_t* dst = phys_ptr(frame);
      for (uint64_t b = 0; b < 0x1000; ++b) {
        uint64_t addr = va + b;
        if (addr >= ph->vaddr && addr - ph->vaddr < ph->filesz) dst[b] = elf[ph->offset + (addr - ph->vaddr)];
      }
    }
  }
  for (int p = 1; p <= USER_STACK_PAGES; ++p) {
    uint64_t frame;
    if (!map_user_page(pml4, USER_STACK_TOP - p * 0x1000ull, PTE_W | PTE_NX, &frame)) return 0;
  }
  if (entry >= USER_TOP) return 0;
  *pml4_out = pml4;
  *entry_out = entry;
  return 1;
}

/* Copies the command line's words to the top of the new process's stack (already mapped and
 * reachable: its CR3 is loaded) as argv; returns the stack pointer, with argc and argv for
 * main in RDI/RSI through `argc_out`/`argv_out`. */
static uint64_t push_args(const char* cmdline, uint64_t* argc_out, uint64_t* argv_out) {
  enum { MAX_ARGS = 16, MAX_BYTES = 1024 };
  uint64_t sp = USER_STACK_TOP;
  uint64_t argv[MAX_ARGS + 1];
  uint64_t argc = 0;
  char* strings = (char*)(sp - MAX_BYTES);
  uint64_t used = 0;
  for (const char* c = cmdline; *c && argc < MAX_ARGS;) {
    while (*c == ' ') ++c;
    if (!*c) break;
    argv[argc++] = (uint64_t)(strings + used);
    while (*c && *c != ' ' && used + 1 < MAX_BYTES) strings[used++] = *c++;
    strings[used++] = 0;
    while (*c && *c != ' ') ++c; /* a word too long for the area is cut */
  }
  argv[argc] = 0;
  sp = (sp - MAX_BYTES - 8 * (argc + 1)) & ~0xfull;
  for (uint64_t i = 0; i <= argc; ++i) ((uint64_t*)sp)[i] = argv[i];
  *argc_out = argc;
  *argv_out = sp;
  return sp - 8; /* as after a call: main sees a normally aligned stack */
}

__attribute__((noreturn)) void run_program(const char* name, const uint8_t* elf, uint64_t size,
                                           const char* cmdline) {
  uint64_t pml4, entry;
  if (!load_program(elf, size, &pml4, &entry)) {
    kputs("kernel: ");
    kputs(name);
    kputs(": not a valid program\n");
    power_off(5);
  }
  current_cr3 = pml4;
  current_pid = 1;
  current_name = name;
  __asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
  uint64_t argc, argv;
  uint64_t sp = push_args(cmdline, &argc, &argv);
  enter_user(entry, sp, argc, argv);
}

#define EINVAL 22

/* Kernel-mode nanobenchmarks (Adams & Agesen): `iterations` of one privileged operation, run
 * here because the paper runs them in the guest kernel. Returns the iterations done. */
enum { BENCH_IN = 0, BENCH_CR8WRITE = 1, BENCH_CALLRET = 2, BENCH_PTEMOD = 3 };

static __attribute__((noinline)) uint64_t bench_leaf(uint64_t x) {
  __asm__ volatile("" : "+r"(x)); /* keep the call */
  return x + 1;
}

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
      /* Rewrite the PTE of the first user stack page with its own value (as the paper). */
      uint64_t* pte = pte_of(current_cr3, USER_STACK_TOP - 0x1000, 0);
      if (!pte) return -EINVAL;
      for (uint64_t i = 0; i < iterations; ++i) {
        uint64_t v = *(volatile uint64_t*)pte;
        *(volatile uint64_t*)pte = v;
      }
      return (int64_t)iterations;
    }
    default: return -EINVAL;
  }
}

/* The process is gone; with one process so far, that is the end of the machine. */
void process_exit(uint8_t status) {
  kputs("kernel: ");
  kputs(current_name);
  kputs(" exited with status ");
  kputdec(status);
  kputs("\n");
  power_off(status);
}

/* A fault in user mode ends the process with status 128 + vector, and one line on the
 * console; the kernel goes on. */
void process_fault(const struct interrupt_frame* f) {
  kputs("kernel: ");
  kputs(current_name);
  kputs(" killed by exception ");
  kputdec(f->vector);
  kputs(" at rip ");
  kputhex(f->rip);
  kputs("\n");
  process_exit((uint8_t)(128 + f->vector));
}

struct syscall_args {
  uint64_t nr, a0, a1, a2, a3, a4, a5;
};

enum { SYS_WRITE = 0, SYS_EXIT = 1, SYS_GETPID = 2, SYS_TIME = 3, SYS_BENCH = 4 };
#define EFAULT 14
#define EBADF 9
#define ENOSYS 38

int64_t syscall_dispatch(struct syscall_args* a) {
  switch (a->nr) {
    case SYS_WRITE: {
      if (a->a0 != 1 && a->a0 != 2) return -EBADF;
      if (!user_range_ok(a->a1, a->a2, 0)) return -EFAULT;
      const char* p = (const char*)a->a1;
      for (uint64_t i = 0; i < a->a2; ++i) kputc(p[i]);
      return (int64_t)a->a2;
    }
    case SYS_EXIT: process_exit((uint8_t)a->a0);
    case SYS_GETPID: return (int64_t)current_pid;
    case SYS_TIME: return (int64_t)rdtsc(); /* virtual nanoseconds (1 GHz TSC) */
    case SYS_BENCH: return bench_kernel(a->a0, a->a1);
    default: return -ENOSYS;
  }
}
