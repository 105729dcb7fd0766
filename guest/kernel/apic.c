/* Local APIC driver (xAPIC, MMIO): identify, enable, periodic timer, EOI. The registers are
 * reached through the direct map. */
#include "kernel.h"

enum {
  APIC_ID = 0x020,
  APIC_VERSION = 0x030,
  APIC_TPR = 0x080,
  APIC_EOI = 0x0b0,
  APIC_SVR = 0x0f0,
  APIC_LVT_TIMER = 0x320,
  APIC_TIMER_INITIAL = 0x380,
  APIC_TIMER_CURRENT = 0x390,
  APIC_TIMER_DIVIDE = 0x3e0,
};

static volatile uint32_t* apic;

static void apic_write(uint32_t reg, uint32_t v) { apic[reg / 4] = v; }
static uint32_t apic_read(uint32_t reg) { return apic[reg / 4]; }

void apic_init(uint64_t mmio_base) {
  apic = (volatile uint32_t*)mmio_base;
  uint32_t version = apic_read(APIC_VERSION);
  kputs("kernel: local APIC id ");
  kputdec(apic_read(APIC_ID) >> 24);
  kputs(", version 0x");
  kputc("0123456789abcdef"[(version >> 4) & 0xf]);
  kputc("0123456789abcdef"[version & 0xf]);
  kputs(", ");
  kputdec(((version >> 16) & 0xff) + 1);
  kputs(" LVT entries\n");
  apic_write(APIC_SVR, 0x100 | SPURIOUS_VECTOR); /* software enable */
  apic_write(APIC_TPR, 0);
}

uint32_t apic_timer_current(void) { return apic_read(APIC_TIMER_CURRENT); }

void apic_timer_periodic(uint32_t initial_count) {
  apic_write(APIC_TIMER_DIVIDE, 0xb);                    /* divide by 1 */
  apic_write(APIC_LVT_TIMER, (1u << 17) | TIMER_VECTOR); /* periodic */
  apic_write(APIC_TIMER_INITIAL, initial_count);
}

void apic_eoi(void) { apic_write(APIC_EOI, 0); }
