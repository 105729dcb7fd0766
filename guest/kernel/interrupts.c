/* The IDT: every vector goes to its entry routine in interrupts.S, then here. A kernel exception is
 * fatal (panic with a register dump); the APIC timer counts ticks. */
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

void interrupt_dispatch(struct interrupt_frame* f) {
  if (f->vector < 32) {
    if ((f->cs & 3) == 3) process_fault(f);
    panic(f);
  }
  if (f->vector == TIMER_VECTOR) {
    ++timer_ticks;
    apic_eoi();
    return;
  }
  if (f->vector == SPURIOUS_VECTOR) return; /* no EOI for spurious interrupts */
  apic_eoi();
}
