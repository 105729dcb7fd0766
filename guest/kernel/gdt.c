/* The kernel's own GDT and TSS: the selector layout SYSCALL/SYSRET expect (kernel code 0x08,
 * data 0x10; user code32 0x18, data 0x20, code64 0x28 with STAR[63:48] = 0x18), RSP0 for
 * entries from user mode (the running process's kernel stack, set by the scheduler) and IST1
 * for #DF. */
#include "kernel.h"

struct tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap_base;
} __attribute__((packed));

static uint64_t gdt[8];
static struct tss tss;
static uint8_t double_fault_stack[8192] __attribute__((aligned(16)));

void gdt_init(void) {
  gdt[0] = 0;
  gdt[1] = 0x00af9b000000ffffull; /* kernel code64 */
  gdt[2] = 0x00cf93000000ffffull; /* kernel data */
  gdt[3] = 0x00cffb000000ffffull; /* user code32 (unused, for SYSRET's layout) */
  gdt[4] = 0x00cff3000000ffffull; /* user data */
  gdt[5] = 0x00affb000000ffffull; /* user code64 */
  uint64_t base = (uint64_t)&tss;
  uint64_t limit = sizeof tss - 1;
  gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
  gdt[7] = base >> 32;
  tss.ist[0] = (uint64_t)(double_fault_stack + sizeof double_fault_stack);
  tss.iomap_base = sizeof tss; /* no I/O bitmap: user port I/O faults */

  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint64_t)gdt};
  __asm__ volatile(
      "lgdt %0\n"
      "mov $0x10, %%ax\n"
      "mov %%ax, %%ds\n"
      "mov %%ax, %%es\n"
      "mov %%ax, %%ss\n"
      "pushq $0x08\n"
      "lea 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "mov $0x30, %%ax\n"
      "ltr %%ax\n"
      :
      : "m"(gdtr)
      : "rax", "memory");
}

void tss_set_rsp0(uint64_t rsp0) { tss.rsp[0] = rsp0; }
