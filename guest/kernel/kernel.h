/* Shared kernel declarations. */
#ifndef HVSIM_KERNEL_H
#define HVSIM_KERNEL_H

#include <stdint.h>

#include "boot_info.h"

struct interrupt_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};

/* console.c */
void console_init(uint16_t uart_port);
void kputc(char c);
void kputs(const char* s);
void kputdec(uint64_t v);
void kputhex(uint64_t v);
__attribute__((noreturn)) void power_off(uint8_t status);
extern uint16_t debug_exit_port;

/* interrupts.c */
void idt_init(void);
void interrupt_dispatch(struct interrupt_frame* f);
extern volatile uint64_t timer_ticks;

/* memory.c */
#define PHYS_MAP_BASE 0xffff800000000000ull /* direct map of physical memory */
#define PML4_INDEX(va) (((va) >> 39) & 0x1ff)
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_COW (1ull << 9) /* software bit: a shared frame, copied on the first write */
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
void memory_init(const struct hvsim_boot_info* bi);
void* phys_ptr(uint64_t pa); /* a pointer to physical memory, before and after memory_init */
uint64_t frame_alloc(void);  /* a zeroed 4 KiB frame with one reference, 0 when memory is exhausted */
void frame_free(uint64_t pa);
void frame_ref(uint64_t pa);   /* one more mapping shares the frame */
void frame_unref(uint64_t pa); /* drops a reference; the last one frees the frame */
uint32_t frame_refs(uint64_t pa);
uint64_t frames_free(void);
extern uint64_t kernel_cr3;

/* Interrupt priority through CR8 (the local APIC's TPR), as Windows raises its IRQL: at
 * IRQL_SCHED the timer (vector 0x20, class 2) is held off, so code that changes the process
 * table, the frame allocator or an address space is never interrupted half-way even with
 * interrupts enabled. Never held across a context switch: the TPR belongs to the CPU. */
#define IRQL_SCHED 2ull
static inline uint64_t irql_raise(void) {
  uint64_t old;
  __asm__ volatile("mov %%cr8, %0" : "=r"(old));
  __asm__ volatile("mov %0, %%cr8" : : "r"(IRQL_SCHED) : "memory");
  return old;
}
static inline void irql_restore(uint64_t old) { __asm__ volatile("mov %0, %%cr8" : : "r"(old) : "memory"); }

static inline void load_cr3(uint64_t pa) { __asm__ volatile("mov %0, %%cr3" : : "r"(pa) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void sti(void) { __asm__ volatile("sti" : : : "memory"); }

/* uspace.c: user address spaces (the lower half). */
#define USER_TOP 0x0000800000000000ull
#define USER_STACK_TOP 0x00007ffffffff000ull
#define USER_STACK_MAX (256ull << 10) /* demand-zero stack below USER_STACK_TOP */
#define USER_HEAP_MAX (256ull << 20)  /* sbrk's limit */
struct process;
uint64_t* pte_lookup(uint64_t pml4_pa, uint64_t va, int create);
uint64_t uspace_new(void);                          /* a PML4 sharing the kernel half; 0 when out of memory */
uint64_t uspace_map(uint64_t pml4_pa, uint64_t va, uint64_t flags); /* a zeroed page; its frame or 0 */
uint64_t uspace_clone_cow(uint64_t parent_pml4_pa); /* fork's copy; 0 when out of memory */
void uspace_free(uint64_t pml4_pa);                 /* must not be the loaded CR3 */
void uspace_unmap_range(uint64_t pml4_pa, uint64_t start, uint64_t end);
/* A hardware page fault at `va` with `error_code`: 1 when resolved (demand-zero page mapped or
 * copy-on-write broken), 0 when it is a true fault, -1 when memory ran out. */
int uspace_page_fault(struct process* p, uint64_t va, uint64_t error_code);
/* Every user pointer goes through here: [va, va+len) below USER_TOP, mapped (demand-zero pages
 * made present) and user-accessible, writable (copy-on-write broken) when `write`. */
int user_range_ok(uint64_t va, uint64_t len, int write);

/* gdt.c */
void gdt_init(void);
void tss_set_rsp0(uint64_t rsp0);

/* initrd.c */
struct initrd_file {
  const char* name;
  const uint8_t* data;
  uint64_t size;
};
/* Calls `visit` for each regular file of a cpio newc archive; returns the number of files, or
 * -1 when the archive is malformed (the same rules as hvsim's app/initrd.cpp). */
int initrd_for_each(const uint8_t* archive, uint64_t size, void (*visit)(const struct initrd_file*));

/* process.c: processes and the scheduler. */
#define MAX_PROCESSES 16
enum process_state { P_FREE, P_RUNNABLE, P_RUNNING, P_WAITING, P_ZOMBIE };
struct process {
  int state;
  uint64_t pid, parent_pid;
  uint64_t cr3;
  uint64_t kernel_sp; /* saved by switch_to while not running */
  uint64_t heap_start, brk;
  uint8_t exit_status;
  char name[32];
};
/* What SYSCALL's entry saves on the process's kernel stack, lowest address first; the frame
 * of a process in a system call sits at the top of its kernel stack. */
struct syscall_frame {
  uint64_t nr, a0, a1, a2, a3, a4, a5;
  uint64_t r15, r14, r13, r12, rbp, rbx;
  uint64_t rflags, rip, rsp;
};
extern struct process* current;
extern volatile int need_resched;
void syscall_init(void);
__attribute__((noreturn)) void process_start_first(const char* name, const uint8_t* elf, uint64_t size,
                                                   const char* cmdline);
void schedule(void); /* with interrupts disabled */
void timer_tick(const struct interrupt_frame* f);
__attribute__((noreturn)) void process_exit(uint8_t status);
__attribute__((noreturn)) void process_fault(const struct interrupt_frame* f);
int64_t process_fork(struct syscall_frame* f);
int64_t process_wait(uint64_t status_ptr);
void process_yield(void);
int64_t process_sbrk(int64_t increment);
void copy_name(char* dst, const char* src, uint64_t size);

/* exec.c */
#define MAX_ARGS 64     /* argv entries a program gets */
#define ARG_BYTES 2048  /* their strings, at the top of the stack */
/* Loads a static ELF64 executable into a new address space; 0 on a malformed file. */
int load_program(const uint8_t* elf, uint64_t size, uint64_t* pml4_out, uint64_t* entry_out, uint64_t* end_out);
/* Writes argv (argc strings) to the top of the loaded address space's stack; returns the new
 * user RSP and argv's address through `argv_out`. */
uint64_t push_args(uint64_t argc, const char* const* args, uint64_t* argv_out);
int64_t process_exec(struct syscall_frame* f, uint64_t argv_user);
const struct initrd_file* initrd_find(const char* name);
void initrd_register(const struct initrd_file* f);

/* syscall.c */
int64_t syscall_dispatch(struct syscall_frame* f);
/* Kernel code allowed to fault (benchmarks) lists fault address and resume address here. */
uint64_t exception_fixup(uint64_t rip);

/* apic.c */
#define TIMER_VECTOR 0x20
#define SPURIOUS_VECTOR 0xff
void apic_init(uint64_t mmio_base);
void apic_timer_periodic(uint32_t initial_count);
void apic_eoi(void);
uint32_t apic_timer_current(void); /* counts down from the initial count */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline const void* phys_to_virt(uint64_t pa) { return phys_ptr(pa); }

#endif
