/* Local APIC driver (xAPIC, MMIO): enable, periodic timer, EOI. The registers are reached
 * through the loader's identity map for now. */
#include "kernel.h"

enum {
  APIC_TPR = 0x080,
  APIC_EOI = 0x0b0,
  APIC_SVR = 0x0f0,
  APIC_LVT_TIMER = 0x320,
  APIC_TIMER_INITIAL = 0x380,
  APIC_TIMER_DIVIDE = 0x3e0,
};

static volatile uint32_t* apic;

static void apic_write(uint32_t reg, uint32_t v) { apic[reg / 4] = v; }

void apic_init(uint64_t mmio_base) {
  apic = (volatile uint32_t*)mmio_base;
  apic_write(APIC_SVR, 0x100 | SPURIOUS_VECTOR); /* software enable */
  apic_write(APIC_TPR, 0);
}

void apic_timer_periodic(uint32_t initial_count) {
  apic_write(APIC_TIMER_DIVIDE, 0xb);                    /* divide by 1 */
  apic_write(APIC_LVT_TIMER, (1u << 17) | TIMER_VECTOR); /* periodic */
  apic_write(APIC_TIMER_INITIAL, initial_count);
}

void apic_eoi(void) { apic_write(APIC_EOI, 0); }
