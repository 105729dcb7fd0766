/* The IDT: every vector goes to its entry routine in interrupts.S, then here. A kernel exception is
 * fatal (panic with a register dump) unless it is a page fault the memory code resolves or an
 * instruction listed in the exception table; a user exception ends the process. The APIC
 * timer counts ticks and drives the scheduler. */
#include "kernel.h"

struct idt_gate {
  uint16_t offset_low, selector;
  uint8_t ist, type_attr;
  uint16_t offset_mid;
  uint32_t offset_high, reserved;
} __attribute__((packed));

static struct idt_gate idt[256];
extern const uint64_t isr_table[256];
volatile uint64_t timer_ticks;

void idt_init(void) {
  for (int v = 0; v < 256; ++v) {
    uint64_t h = isr_table[v];
    idt[v].offset_low = (uint16_t)h;
    idt[v].selector = 0x08;
    idt[v].ist = v == 8 ? 1 : 0; /* #DF on the IST1 stack */
    idt[v].type_attr = 0x8e;     /* present, DPL 0, 64-bit interrupt gate */
    idt[v].offset_mid = (uint16_t)(h >> 16);
    idt[v].offset_high = (uint32_t)(h >> 32);
    idt[v].reserved = 0;
  }
  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)idt};
  __asm__ volatile("lidt %0" : : "m"(idtr));
}

static __attribute__((noreturn)) void panic(const struct interrupt_frame* f) {
  kputs("kernel panic: exception ");
  kputdec(f->vector);
  kputs(" error ");
  kputhex(f->error_code);
  kputs(" at rip ");
  kputhex(f->rip);
  kputs("\n  rax ");
  kputhex(f->rax);
  kputs(" rbx ");
  kputhex(f->rbx);
  kputs(" rcx ");
  kputhex(f->rcx);
  kputs(" rdx ");
  kputhex(f->rdx);
  kputs("\n  rsp ");
  kputhex(f->rsp);
  kputs(" rbp ");
  kputhex(f->rbp);
  kputs(" rflags ");
  kputhex(f->rflags);
  kputs("\n");
  power_off(3);
}

static uint64_t read_cr2(void) {
  uint64_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

#define PAGE_FAULT 14

static void exception(struct interrupt_frame* f) {
  int user = (f->cs & 3) == 3;
  if (f->vector == PAGE_FAULT) {
    /* Demand-zero and copy-on-write faults are resolved, from user mode or from the kernel
     * touching user memory. */
    int resolved = uspace_page_fault(current, read_cr2(), f->error_code);
    if (resolved == 1) return;
    if (resolved < 0 && current) {
      kputs("kernel: ");
      kputs(current->name);
      kputs(" (pid ");
      kputdec(current->pid);
      kputs(") killed: out of memory\n");
      process_exit(128 + 9);
    }
  }
  if (user) process_fault(f);
  uint64_t resume = exception_fixup(f->rip);
  if (resume) {
    f->rip = resume;
    return;
  }
  panic(f);
}

void interrupt_dispatch(struct interrupt_frame* f) {
  if (f->vector < 32) {
    exception(f);
    return;
  }
  if (f->vector == TIMER_VECTOR) {
    ++timer_ticks;
    apic_eoi();
    timer_tick(f);
    return;
  }
  if (f->vector == SPURIOUS_VECTOR) return; /* no EOI for spurious interrupts */
  apic_eoi();
}
