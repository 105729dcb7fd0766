/* hvsim's guest kernel (docs/guest-kernel.md): boots through the hvsim boot protocol, reports
 * what the loader handed it, takes over memory (frame allocator, its own page tables, GDT and
 * TSS), lists the initrd, installs its IDT, runs the local APIC timer for a few ticks, then
 * starts the program named by the first word of the command line as process 1 (init, as a
 * rule); when process 1 exits the machine powers off with its status. */
#include "kernel.h"

#define BOOT_TICKS 10
#define TICK_NS 100000 /* APIC timer period in virtual ns (divide by 1 at the nominal 1 GHz) */

static char first_program[64] = "init"; /* the first word of the command line */

static void list_file(const struct initrd_file* f) {
  initrd_register(f);
  kputs("initrd: ");
  kputs(f->name);
  kputs(" (");
  kputdec(f->size);
  kputs(" bytes)\n");
}

void kmain(uint64_t boot_info_pa) {
  const struct hvsim_boot_info* bi = phys_to_virt(boot_info_pa);
  if (bi->magic != HVSIM_BOOT_MAGIC || bi->version != HVSIM_BOOT_VERSION || bi->size != sizeof *bi) {
    kputs("kernel: bad boot info\n");
    power_off(1);
  }
  uint64_t apic_base = 0;
  for (uint32_t i = 0; i < bi->device_count && i < HVSIM_BOOT_MAX_DEVICES; ++i) {
    const struct hvsim_device* d = &bi->devices[i];
    if (d->type == HVSIM_DEVICE_UART16550) console_init((uint16_t)d->base);
    if (d->type == HVSIM_DEVICE_DEBUG_EXIT) debug_exit_port = (uint16_t)d->base;
    if (d->type == HVSIM_DEVICE_LOCAL_APIC) apic_base = d->base;
  }
  uint64_t usable = 0;
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS; ++i) {
    if (bi->regions[i].type == HVSIM_REGION_USABLE) usable += bi->regions[i].length;
  }
  kputs("kernel: booted with command line \"");
  kputs(phys_to_virt(bi->cmdline_addr));
  kputs("\"\nkernel: ");
  kputdec(bi->ram_size >> 20);
  kputs(" MiB RAM, ");
  kputdec(usable >> 10);
  kputs(" KiB usable in ");
  kputdec(bi->region_count);
  kputs(" regions, ");
  kputdec(bi->device_count);
  kputs(" devices, initrd of ");
  kputdec(bi->initrd_size);
  kputs(" bytes\n");

  /* Copy what is needed from the boot info: memory_init moves the kernel to its own tables. */
  uint64_t initrd_addr = bi->initrd_addr, initrd_size = bi->initrd_size, cmdline_addr = bi->cmdline_addr;
  memory_init(bi);
  gdt_init();
  kputs("kernel: own page tables and GDT loaded, ");
  kputdec(frames_free());
  kputs(" frames free\n");
  {
    /* The first program to run is named by the first word of the command line. */
    const char* c = phys_ptr(cmdline_addr);
    unsigned len = 0;
    while (c[len] && c[len] != ' ' && len + 1 < sizeof first_program) ++len;
    if (len) {
      for (unsigned i = 0; i < len; ++i) first_program[i] = c[i];
      first_program[len] = 0;
    }
  }
  if (initrd_size) {
    int n = initrd_for_each(phys_ptr(initrd_addr), initrd_size, list_file);
    if (n < 0) {
      kputs("kernel: malformed initrd\n");
      power_off(4);
    }
  }

  idt_init();
  const char* cmdline = phys_ptr(cmdline_addr);
  static const char panic_test[] = "panic-test";
  int i = 0;
  while (panic_test[i] && cmdline[i] == panic_test[i]) ++i;
  if (!panic_test[i] && !cmdline[i]) __asm__ volatile("ud2"); /* exercises the panic path */
  if (!apic_base) {
    kputs("kernel: no local APIC\n");
    power_off(2);
  }
  apic_init((uint64_t)phys_ptr(apic_base));
  uint64_t start = rdtsc();
  apic_timer_periodic(TICK_NS);
  uint32_t count = apic_timer_current();
  for (volatile int spin = 0; spin < 100; ++spin) {
  }
  if (apic_timer_current() >= count) {
    kputs("kernel: the APIC timer does not count down\n");
    power_off(2);
  }
  __asm__ volatile("sti");
  while (timer_ticks < BOOT_TICKS) __asm__ volatile("hlt");
  __asm__ volatile("cli");
  kputs("kernel: ");
  kputdec(timer_ticks);
  kputs(" timer ticks in ");
  kputdec(rdtsc() - start);
  kputs(" ns of virtual time\n");
  const struct initrd_file* first = initrd_find(first_program);
  if (first) {
    syscall_init();
    kputs("kernel: starting ");
    kputs(first->name);
    kputs("\n");
    process_start_first(first->name, first->data, first->size, cmdline);
  }
  power_off(0);
}
