/* The first slice of hvsim's guest kernel (issue 3): boots through the hvsim boot protocol,
 * reports what the loader handed it on the console, and powers off. Processes, paging,
 * interrupts and the programs come next. */
#include <stdint.h>

#include "boot_info.h"

static uint16_t uart_port = 0x3f8;
static uint16_t exit_port = 0xf4;

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static void putc(char c) {
  while (!(inb(uart_port + 5) & 0x20)) {
  }
  outb(uart_port, (uint8_t)c);
}
static void puts(const char* s) {
  while (*s) putc(*s++);
}
static void putdec(uint64_t v) {
  char buf[21];
  int i = 20;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  puts(buf + i);
}

static __attribute__((noreturn)) void power_off(uint8_t status) {
  outb(exit_port, status);
  for (;;) __asm__ volatile("cli; hlt");
}

static const void* phys(uint64_t pa) { return (const void*)(pa + HVSIM_KERNEL_VIRT_OFFSET); }

void kmain(uint64_t boot_info_pa) {
  const struct hvsim_boot_info* bi = phys(boot_info_pa);
  if (bi->magic != HVSIM_BOOT_MAGIC || bi->version != HVSIM_BOOT_VERSION || bi->size != sizeof *bi) {
    puts("kernel: bad boot info\n");
    power_off(1);
  }
  for (uint32_t i = 0; i < bi->device_count && i < HVSIM_BOOT_MAX_DEVICES; ++i) {
    if (bi->devices[i].type == HVSIM_DEVICE_UART16550) uart_port = (uint16_t)bi->devices[i].base;
    if (bi->devices[i].type == HVSIM_DEVICE_DEBUG_EXIT) exit_port = (uint16_t)bi->devices[i].base;
  }
  uint64_t usable = 0;
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS; ++i) {
    if (bi->regions[i].type == HVSIM_REGION_USABLE) usable += bi->regions[i].length;
  }
  puts("kernel: booted with command line \"");
  puts(phys(bi->cmdline_addr));
  puts("\"\nkernel: ");
  putdec(bi->ram_size >> 20);
  puts(" MiB RAM, ");
  putdec(usable >> 10);
  puts(" KiB usable in ");
  putdec(bi->region_count);
  puts(" regions, ");
  putdec(bi->device_count);
  puts(" devices, initrd of ");
  putdec(bi->initrd_size);
  puts(" bytes\n");
  power_off(0);
}
