#pragma once
// What devices see of the machine they are plugged into. Devices (devices/) implement PortIo
// and MmioHandler and talk back only through Platform; core/ never includes devices/.
#include <cstdint>
#include <functional>

#include "core/cpu/cpu_memory.hpp"

namespace hvsim {

class PortIo {
 public:
  virtual ~PortIo() = default;
  // size is 1, 2 or 4.
  virtual uint32_t port_read(uint16_t port, unsigned size) = 0;
  virtual void port_write(uint16_t port, unsigned size, uint32_t value) = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual uint64_t now_ns() const = 0;
  virtual uint64_t arm_timer(uint64_t deadline_ns, std::function<void()> cb) = 0;
  virtual void cancel_timer(uint64_t id) = 0;
  virtual void raise_interrupt(uint8_t vector) = 0;
  virtual void request_exit(int status) = 0;
  virtual void console_output(char c) = 0;
};

}  // namespace hvsim
