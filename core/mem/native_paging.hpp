#pragma once
// The MMU of a machine without a hypervisor: TLB fills walk the guest's own page tables and
// the guest-physical address goes straight to its RAM.
#include "core/mem/guest_mmu.hpp"

namespace hvsim {

class NativePaging : public GuestMmu {
 public:
  using GuestMmu::GuestMmu;
  FillResult fill(const FillRequest& request) override;
  std::optional<uint64_t> probe(uint64_t va) override;
};

}  // namespace hvsim
