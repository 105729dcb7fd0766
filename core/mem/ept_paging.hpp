#pragma once
// The MMU with EPT: a TLB fill walks the guest's page tables, translating the guest-physical
// address of every guest paging-structure entry through the EPT, then the final guest-physical
// address (SDM 29.3.2): the two-dimensional walk, 24 references for 4-level guest tables on a
// 4-level EPT with 4 KiB pages, each counted. A walk that ends in an EPT violation at a
// guest-physical address with nothing behind it is an isolation event; the VMM's policy here
// is the empty bus (reads all ones, writes dropped, fetches #UD), which is what the guest saw
// without a hypervisor.
#include <array>

#include "core/mem/ept.hpp"
#include "core/mem/guest_mmu.hpp"
#include "core/mem/machine_memory.hpp"

namespace hvsim {

// One access translated in two dimensions, every reference it made: for the visualizer,
// `hvsim walk` and tests.
struct EptTranslation {
  WalkResult guest;                     // the guest dimension (entries at guest-physical addresses)
  std::array<EptWalk, 4> guest_tables;  // the EPT walk of each guest step's entry address
  EptWalk final;                        // the EPT walk of the translated address
  bool ept_failed = false;              // an EPT violation or misconfiguration ended the walk
  bool ept_failed_in_table = false;     // ... while reaching a guest paging-structure entry
  uint64_t failed_gpa = 0;
  EptWalk failed;
  uint64_t mpa = 0;
  unsigned references = 0;
};

class EptPaging : public GuestMmu {
 public:
  EptPaging(GuestRam& ram, P2m p2m, MachineMemory& machine, EptTables& ept)
      : GuestMmu(ram, std::move(p2m)), machine_(machine), ept_(ept) {}
  FillResult fill(const FillRequest& request) override;
  std::optional<uint64_t> probe(uint64_t va) override;
  // The full two-dimensional walk for one access, without side effects.
  EptTranslation translate(uint64_t va, Access access, unsigned cpl);
  EptTables& tables() { return ept_; }
  // The second dimension of a fill, through a small cache of guest-physical pages already
  // walked (what the processor's paging-structure caches do); the references are counted as
  // the full walk would make them, and A/D flags are set on the first walk that needs them.
  struct Leaf {
    bool ok = false;
    int steps = 0;  // EPT references the walk makes
    uint64_t mpa = 0;
    bool readable = false, writable = false, executable = false;
  };
  Leaf second_dimension(uint64_t gpa, Access need);

 private:
  EptTranslation walk(const PagingControl& ctl, uint64_t va, Access access, unsigned cpl);
  // One guest-physical page's translation, packed: tag = page | 1; value = machine page |
  // rights and state in the low bits.
  struct CacheEntry {
    uint64_t tag = 0, value = 0;
  };
  static constexpr size_t kCacheSize = 1 << 14;  // direct mapped: 64 MiB of guest-physical pages
  std::vector<CacheEntry> cache_ = std::vector<CacheEntry>(kCacheSize);
  uint64_t cache_generation_ = 0;
  MachineMemory& machine_;
  EptTables& ept_;
};

}  // namespace hvsim
