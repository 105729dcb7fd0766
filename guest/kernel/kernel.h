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
#define PTE_NX (1ull << 63)
void memory_init(const struct hvsim_boot_info* bi);
void* phys_ptr(uint64_t pa); /* a pointer to physical memory, before and after memory_init */
uint64_t frame_alloc(void);  /* a zeroed 4 KiB frame, 0 when memory is exhausted */
void frame_free(uint64_t pa);
uint64_t frames_free(void);
extern uint64_t kernel_cr3;

/* gdt.c */
void gdt_init(void);

/* initrd.c */
struct initrd_file {
  const char* name;
  const uint8_t* data;
  uint64_t size;
};
/* Calls `visit` for each regular file of a cpio newc archive; returns the number of files, or
 * -1 when the archive is malformed (the same rules as hvsim's app/initrd.cpp). */
int initrd_for_each(const uint8_t* archive, uint64_t size, void (*visit)(const struct initrd_file*));

/* process.c */
void syscall_init(void);
__attribute__((noreturn)) void run_program(const char* name, const uint8_t* elf, uint64_t size,
                                           const char* cmdline);
__attribute__((noreturn)) void process_exit(uint8_t status);
__attribute__((noreturn)) void process_fault(const struct interrupt_frame* f);

/* apic.c */
#define TIMER_VECTOR 0x20
#define SPURIOUS_VECTOR 0xff
void apic_init(uint64_t mmio_base);
void apic_timer_periodic(uint32_t initial_count);
void apic_eoi(void);

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
