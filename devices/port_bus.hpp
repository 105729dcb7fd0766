#pragma once
// The port-I/O bus: devices register a window of ports and see only offsets into it.
#include <cstdint>
#include <vector>

#include "core/vm/platform.hpp"

namespace hvsim {

class PortDevice {
 public:
  virtual ~PortDevice() = default;
  virtual uint32_t read(uint16_t offset, unsigned size) = 0;
  virtual void write(uint16_t offset, unsigned size, uint32_t value) = 0;
};

class PortBus : public PortIo {
 public:
  // false when the window overlaps one already registered. The device sees
  // port - first_port + offset_base (a device may own several windows).
  bool attach(uint16_t first_port, uint16_t count, PortDevice& device, uint16_t offset_base = 0);
  uint32_t port_read(uint16_t port, unsigned size) override;
  void port_write(uint16_t port, unsigned size, uint32_t value) override;
  bool claimed(uint16_t port) const override { return find(port) != nullptr; }
  uint64_t unclaimed_accesses() const { return unclaimed_; }

 private:
  struct Window {
    uint16_t first;
    uint16_t count;
    PortDevice* device;
    uint16_t offset_base;
  };
  const Window* find(uint16_t port) const;
  std::vector<Window> windows_;
  uint64_t unclaimed_ = 0;
};

}  // namespace hvsim
