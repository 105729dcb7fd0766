#pragma once
// Debug-exit port (0xf4): a 1-, 2- or 4-byte write of v ends the run with exit status v & 0xff.
#include "devices/port_bus.hpp"

namespace hvsim {

class DebugExit : public PortDevice {
 public:
  explicit DebugExit(Platform& platform) : platform_(platform) {}
  uint32_t read(uint16_t, unsigned size) override { return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }
  void write(uint16_t, unsigned, uint32_t value) override { platform_.request_exit(static_cast<int>(value & 0xff)); }

 private:
  Platform& platform_;
};

}  // namespace hvsim
