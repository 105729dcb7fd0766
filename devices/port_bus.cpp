#include "devices/port_bus.hpp"

namespace hvsim {

bool PortBus::attach(uint16_t first, uint16_t count, PortDevice& device, uint16_t offset_base) {
  if (count == 0 || first + count > 0x10000) return false;
  for (const auto& w : windows_) {
    if (first < w.first + w.count && w.first < first + count) return false;
  }
  windows_.push_back({first, count, &device, offset_base});
  return true;
}

const PortBus::Window* PortBus::find(uint16_t port) const {
  for (const auto& w : windows_) {
    if (port >= w.first && port < w.first + w.count) return &w;
  }
  return nullptr;
}

uint32_t PortBus::port_read(uint16_t port, unsigned size) {
  if (const Window* w = find(port)) return w->device->read(static_cast<uint16_t>(port - w->first + w->offset_base), size);
  ++unclaimed_;
  return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;  // nothing answers: all ones
}

void PortBus::port_write(uint16_t port, unsigned size, uint32_t value) {
  if (const Window* w = find(port)) {
    w->device->write(static_cast<uint16_t>(port - w->first + w->offset_base), size, value);
    return;
  }
  ++unclaimed_;
}

}  // namespace hvsim
