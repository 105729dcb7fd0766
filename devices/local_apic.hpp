#pragma once
// A local APIC (xAPIC, SDM Vol. 3A ch. 11) at its MMIO page (0xfee00000): ID, version, TPR,
// PPR, EOI, spurious-vector register, ISR/IRR, LVT timer with one-shot and periodic modes,
// initial/current count and divide configuration. It is the VM's interrupt controller: it
// accepts vectors into IRR, offers the highest one above the processor priority, and moves it
// to ISR when the CPU takes it; EOI retires the highest in-service vector.
// The timer counts on virtual time (one tick per divide-value nanoseconds at the nominal
// 1 GHz), so its interrupts land at the same instructions on every run. TPR[7:4] is CR8: the
// two are one value, kept by the CPU.
#include <array>
#include <cstdint>

#include "core/vm/platform.hpp"

namespace hvsim {

constexpr uint64_t kLocalApicBase = 0xfee00000;
constexpr uint64_t kLocalApicSize = 0x1000;

namespace apic_reg {
constexpr uint32_t ID = 0x020, VERSION = 0x030, TPR = 0x080, PPR = 0x0a0, EOI = 0x0b0, LDR = 0x0d0,
                   DFR = 0x0e0, SVR = 0x0f0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280,
                   LVT_TIMER = 0x320, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370,
                   TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3e0;
}
namespace apic_bits {
constexpr uint32_t SVR_ENABLE = 1u << 8, LVT_MASKED = 1u << 16, TIMER_PERIODIC = 1u << 17;
}

class LocalApic : public MmioHandler, public InterruptController {
 public:
  explicit LocalApic(Platform& platform);
  // MmioHandler: 32-bit aligned accesses to registers; anything else reads 0 and is ignored.
  uint64_t mmio_read(uint64_t offset, unsigned size) override;
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override;
  // InterruptController
  void raise(uint8_t vector) override;
  int deliverable(uint8_t task_priority_class) const override;
  bool would_deliver(uint8_t vector, uint8_t task_priority_class) const override;
  void acknowledge(uint8_t vector) override;
  uint64_t accepted() const override { return accepted_; }

  uint64_t timer_expiries() const { return expiries_; }
  uint64_t malformed_accesses() const { return malformed_; }

 private:
  uint32_t read_register(uint32_t reg) const;
  void write_register(uint32_t reg, uint32_t value);
  uint32_t tpr() const;
  uint32_t ppr(uint8_t tpr_class) const;
  unsigned divide() const;
  void start_timer();
  void stop_timer();
  void on_timer(uint64_t deadline);
  int timer_vector() const;  // what an expiry raises now (-1: the LVT entry is masked)
  uint32_t current_count() const;

  using Bits256 = std::array<uint32_t, 8>;
  static int highest(const Bits256& b);
  static void set(Bits256& b, uint8_t v) { b[v / 32] |= 1u << (v % 32); }
  static void clear(Bits256& b, uint8_t v) { b[v / 32] &= ~(1u << (v % 32)); }

  Platform& platform_;
  Bits256 irr_{}, isr_{};
  uint64_t accepted_ = 0;
  uint32_t svr_ = 0xff;  // reset: software-disabled, spurious vector 0xff
  uint32_t ldr_ = 0, dfr_ = 0xffffffff;
  uint32_t lvt_timer_ = apic_bits::LVT_MASKED, lvt_lint0_ = apic_bits::LVT_MASKED,
           lvt_lint1_ = apic_bits::LVT_MASKED, lvt_error_ = apic_bits::LVT_MASKED;
  uint32_t timer_initial_ = 0, divide_config_ = 0;
  uint8_t tpr_low_ = 0, tpr_low_class_ = 0;  // TPR[3:0], valid while CR8 is still the class it was written with
  bool timer_running_ = false;
  uint64_t timer_id_ = 0, timer_deadline_ = 0;
  uint64_t expiries_ = 0, malformed_ = 0;
};

}  // namespace hvsim
