#pragma once
// Guest-linear reads and writes made by the VMM on the guest's behalf (event delivery,
// descriptor tables, string I/O): translated through the guest's paging with the access
// rights of the given CPL, setting A/D bits as the hardware does, never touching host memory
// outside guest RAM.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/mem/guest_ram.hpp"
#include "core/mem/page_walker.hpp"

namespace hvsim {

struct GuestFault {
  uint8_t vector = 0;  // vec::PF or vec::GP
  uint32_t error_code = 0;
  uint64_t cr2 = 0;
};

class LinearMemory {
 public:
  LinearMemory(GuestRam& ram, std::function<PagingControl()> control)
      : ram_(ram), control_(std::move(control)) {}
  std::optional<GuestFault> read(uint64_t va, void* out, size_t size, unsigned cpl);
  // Reads instruction bytes: the fault (and error code) of an instruction fetch.
  std::optional<GuestFault> fetch(uint64_t va, void* out, size_t size, unsigned cpl);
  std::optional<GuestFault> write(uint64_t va, const void* in, size_t size, unsigned cpl);
  template <typename T>
  std::optional<GuestFault> load(uint64_t va, T& out, unsigned cpl) {
    return read(va, &out, sizeof out, cpl);
  }

  // The paging controls are read once per VMM intervention and reused; call this whenever
  // the CPU may have changed them (the VMM does before handling each stop).
  void invalidate_control() { cached_.reset(); }
  // Told of every write before it lands in RAM (guest-physical address, length): shadow
  // paging must see the VMM's writes to page tables as it sees the guest's.
  void on_write(std::function<void(uint64_t gpa, size_t size)> f) { on_write_ = std::move(f); }

 private:
  std::optional<GuestFault> copy_out(uint64_t va, void* out, size_t size, Access access, unsigned cpl);
  const PagingControl& control() {
    if (!cached_) cached_ = control_();
    return *cached_;
  }
  // Translates every page of [va, va+size) for `access` before anything is touched.
  std::optional<GuestFault> translate(uint64_t va, size_t size, Access access, unsigned cpl,
                                      uint64_t gpas[2], size_t& first_len);
  GuestRam& ram_;
  std::function<PagingControl()> control_;
  std::optional<PagingControl> cached_;
  std::function<void(uint64_t, size_t)> on_write_;
};

}  // namespace hvsim
