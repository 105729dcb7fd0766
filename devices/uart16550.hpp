#pragma once
// A 16550 UART as a console: the transmitter is always ready and every byte written to THR
// goes to the platform console. Registers at offsets 0-7 of its port window (COM1: 0x3f8).
#include <cstdint>

#include "devices/port_bus.hpp"

namespace hvsim {

class Uart16550 : public PortDevice {
 public:
  explicit Uart16550(Platform& platform) : platform_(platform) {}
  uint32_t read(uint16_t offset, unsigned size) override;
  void write(uint16_t offset, unsigned size, uint32_t value) override;
  uint64_t bytes_sent() const { return sent_; }

 private:
  Platform& platform_;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scratch_ = 0, dll_ = 0, dlm_ = 0;
  uint64_t sent_ = 0;
};

}  // namespace hvsim
