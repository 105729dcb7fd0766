#pragma once
// The MMU of a machine without a hypervisor: TLB fills walk the guest's own page tables and
// the guest-physical address is the CPU-physical address. EPT and shadow paging implement the
// same AddressTranslator interface.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/cpu/cpu_memory.hpp"
#include "core/cpu/unicorn_cpu.hpp"
#include "core/mem/guest_ram.hpp"
#include "core/mem/page_walker.hpp"

namespace hvsim {

// A page of "nothing": reads return all ones and writes are dropped, as on a bus with no
// device; every fill that lands here is reported.
constexpr uint64_t kOpenBusPage = 0xff'ffff'f000ull;  // CPU-physical, just below 2^40
// Instruction fetches from nothing (or from a device window) read all ones too; they go to
// this read-only RAM page of 0xff bytes, which decodes as an invalid opcode (#UD), because
// Unicorn cannot execute from an MMIO region.
constexpr uint64_t kOpenBusCodePage = 0xff'ffff'e000ull;

struct UnbackedAccess {
  uint64_t gpa = 0, va = 0;
  Access access = Access::Read;
};

class NativePaging : public AddressTranslator {
 public:
  explicit NativePaging(GuestRam& ram) : ram_(ram) {}
  void attach(UnicornCpu& cpu) { cpu_ = &cpu; }
  void add_mmio_window(uint64_t gpa, uint64_t size) { mmio_.push_back({gpa, gpa + size}); }
  void on_unbacked(std::function<void(const UnbackedAccess&)> f) { unbacked_ = std::move(f); }

  PagingControl control() const;
  FillResult fill(const FillRequest& request) override;
  std::optional<uint64_t> probe(uint64_t va) override;

 private:
  bool is_mmio(uint64_t gpa) const;
  GuestRam& ram_;
  UnicornCpu* cpu_ = nullptr;
  std::vector<std::pair<uint64_t, uint64_t>> mmio_;
  std::function<void(const UnbackedAccess&)> unbacked_;
};

}  // namespace hvsim
