#include "devices/uart16550.hpp"

namespace hvsim {
namespace {
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrThrEmpty = 0x20, kLsrTxIdle = 0x40;
}  // namespace

uint32_t Uart16550::read(uint16_t offset, unsigned) {
  const bool dlab = lcr_ & kLcrDlab;
  switch (offset) {
    case 0: return dlab ? dll_ : 0;  // RBR: no input
    case 1: return dlab ? dlm_ : ier_;
    case 2: return 0x01;  // IIR: no interrupt pending
    case 3: return lcr_;
    case 4: return mcr_;
    case 5: return kLsrThrEmpty | kLsrTxIdle;
    case 6: return 0xb0;  // MSR: CTS, DSR, DCD
    case 7: return scratch_;
    default: return 0xff;
  }
}

void Uart16550::write(uint16_t offset, unsigned, uint32_t value) {
  const bool dlab = lcr_ & kLcrDlab;
  auto b = static_cast<uint8_t>(value);
  switch (offset) {
    case 0:
      if (dlab) {
        dll_ = b;
      } else {
        ++sent_;
        platform_.console_output(static_cast<char>(b));
      }
      break;
    case 1:
      if (dlab) dlm_ = b; else ier_ = b & 0x0f;
      break;
    case 3: lcr_ = b; break;
    case 4: mcr_ = b & 0x1f; break;
    case 7: scratch_ = b; break;
    default: break;
  }
}

}  // namespace hvsim
