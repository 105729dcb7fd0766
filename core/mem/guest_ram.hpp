#pragma once
// A guest's RAM: guest-physical [0, size) backed by a machine range. Every access the VMM
// makes on the guest's behalf is bounds-checked here.
#include <cstdint>
#include <cstring>
#include <optional>

#include "core/mem/machine_memory.hpp"
#include "core/mem/page_walker.hpp"

namespace hvsim {

class GuestRam : public PageTableMemory {
 public:
  explicit GuestRam(MachineRange range) : range_(range) {}
  uint64_t size() const { return range_.size; }
  uint8_t* host_base() const { return range_.host; }
  uint64_t machine_address() const { return range_.machine_address; }
  bool contains(uint64_t gpa, uint64_t len = 1) const {
    return len <= range_.size && gpa <= range_.size - len;
  }
  // nullptr unless [gpa, gpa+len) lies inside RAM.
  uint8_t* host(uint64_t gpa, uint64_t len) const { return contains(gpa, len) ? range_.host + gpa : nullptr; }
  bool read(uint64_t gpa, void* out, uint64_t len) const {
    auto* p = host(gpa, len);
    if (p) std::memcpy(out, p, len);
    return p != nullptr;
  }
  bool write(uint64_t gpa, const void* in, uint64_t len) {
    auto* p = host(gpa, len);
    if (p) std::memcpy(p, in, len);
    return p != nullptr;
  }
  template <typename T>
  std::optional<T> load(uint64_t gpa) const {
    T v;
    if (!read(gpa, &v, sizeof v)) return std::nullopt;
    return v;
  }
  uint64_t* entry(uint64_t gpa) override {
    return (gpa & 7) ? nullptr : reinterpret_cast<uint64_t*>(host(gpa, 8));
  }

 private:
  MachineRange range_;
};

}  // namespace hvsim
