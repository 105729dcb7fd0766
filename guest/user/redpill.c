/* redpill: Joanna Rutkowska's Red Pill (2004) and its relatives. SIDT, SGDT, SLDT and STR are
 * sensitive but not privileged (Robin & Irvine 2000): in user mode they run without trapping
 * and return the processor's own registers. On the bare machine and under VT-x those hold the
 * guest kernel's tables. Under binary translation user code runs untranslated while the
 * processor's registers hold the VMM's tables, so the values give the VMM away. */
#include "libc.h"

struct __attribute__((packed)) table_register {
  uint16_t limit;
  uint64_t base;
};

/* Where no kernel of this guest puts a table: the top 16 MiB of the address space. */
static int in_top_16mib(uint64_t address) { return address >= 0xffffffffff000000ull; }

static void show(const char* name, uint64_t value) {
  puts_fd(1, name);
  put_hex(1, value);
}

int main(void) {
  struct table_register idt, gdt;
  uint64_t ldt = 0, tr = 0;
  __asm__ volatile("sidt %0" : "=m"(idt));
  __asm__ volatile("sgdt %0" : "=m"(gdt));
  __asm__ volatile("sldt %0" : "=r"(ldt));
  __asm__ volatile("str %0" : "=r"(tr));
  show("redpill: IDT base ", idt.base);
  show(", GDT base ", gdt.base);
  show(", LDT ", ldt & 0xffff);
  show(", TR ", tr & 0xffff);
  puts_fd(1, "\n");
  if (in_top_16mib(idt.base) || in_top_16mib(gdt.base)) {
    puts_fd(1, "redpill: the tables are not where this kernel keeps them: a VMM is running us\n");
  } else {
    puts_fd(1, "redpill: the tables are the kernel's own: no VMM seen\n");
  }
  return 0;
}
