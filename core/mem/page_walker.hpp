#pragma once
// The x86-64 4-level page walk (SDM Vol. 3A, 4.5): 4K/2M/1G pages; P, R/W, U/S, XD, A, D;
// CR0.WP, EFER.NXE, CR4.SMEP/SMAP. Returns every level it visited, for the MMU, the
// visualizer and tests alike.
#include <array>
#include <cstdint>

#include "core/cpu/cpu_types.hpp"

namespace hvsim {

// Where the walker reads and updates paging-structure entries (guest-physical addresses).
class PageTableMemory {
 public:
  virtual ~PageTableMemory() = default;
  // Pointer to the 8-byte entry at `gpa`, or nullptr when no RAM backs it.
  virtual uint64_t* entry(uint64_t gpa) = 0;
};

struct PagingControl {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
  bool rflags_ac = false;
};

struct WalkStep {
  int level = 0;  // 4 = PML4 ... 1 = PT
  uint64_t entry_gpa = 0;
  uint64_t entry = 0;
};

struct WalkResult {
  bool ok = false;
  bool non_canonical = false;    // #GP, not #PF
  bool unbacked_table = false;   // a paging structure outside RAM
  uint64_t unbacked_entry_gpa = 0;
  uint64_t gpa = 0;              // translated address (of the byte asked for)
  uint64_t page_size = 0;
  // Effective permissions for the privilege asked for.
  bool can_read = false, can_write = false, can_exec = false;
  bool dirty = false;
  uint32_t pf_error_code = 0;    // when !ok && !non_canonical
  std::array<WalkStep, 4> steps{};
  int step_count = 0;
};

constexpr unsigned kMaxPhysAddrBits = 40;  // Unicorn's default CPU model (CPUID 0x80000008)

// `update_accessed_dirty`: set A on every level used and D on the leaf for a write, as the
// hardware does when it loads a TLB entry; off for side-effect-free probes.
WalkResult walk_page_tables(PageTableMemory& mem, const PagingControl& ctl, uint64_t va,
                            Access access, unsigned cpl, bool update_accessed_dirty);

inline bool is_canonical(uint64_t va) {
  return static_cast<uint64_t>(static_cast<int64_t>(va << 16) >> 16) == va;
}

}  // namespace hvsim
