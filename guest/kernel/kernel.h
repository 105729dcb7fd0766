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
static inline const void* phys_to_virt(uint64_t pa) { return (const void*)(pa + HVSIM_KERNEL_VIRT_OFFSET); }

#endif
