#pragma once
// A test interval timer for flat guests (the guest OS uses the local APIC timer instead).
// Two port windows (0xf4 between them belongs to the debug-exit device):
//   offset 0 (port 0xf0), 4-byte write: period in virtual ns, 0 stops the timer;
//   offset 8 (port 0xf8), 1-byte write: the vector it raises.
// Each expiry raises the vector as an external interrupt; the next deadline is one period
// after the previous one, so expiries land at the same virtual times on every run.
#include <cstdint>

#include "devices/port_bus.hpp"

namespace hvsim {

class IntervalTimer : public PortDevice {
 public:
  explicit IntervalTimer(Platform& platform) : platform_(platform) {}
  uint32_t read(uint16_t offset, unsigned size) override;
  void write(uint16_t offset, unsigned size, uint32_t value) override;
  uint64_t expiries() const { return expiries_; }

 private:
  void arm(uint64_t deadline);
  Platform& platform_;
  uint32_t period_ = 0;
  uint8_t vector_ = 0x20;
  uint64_t timer_ = 0;
  bool armed_ = false;
  uint64_t expiries_ = 0;
};

}  // namespace hvsim
