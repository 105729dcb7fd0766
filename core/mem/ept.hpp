#pragma once
// Extended page tables (Intel SDM Vol. 3C, 29.3): VMM-built 4-level tables translating
// guest-physical to machine addresses, with read/write/execute permissions, a memory type,
// and accessed/dirty flags when the EPTP enables them. The walk returns every entry it
// visited, for the MMU (the second dimension of a TLB fill), the visualizer and tests.
#include <array>
#include <cstdint>

#include "core/cpu/cpu_types.hpp"
#include "core/mem/p2m.hpp"
#include "core/mem/page_walker.hpp"
#include "core/mem/vmm_frames.hpp"
#include "core/util/result.hpp"

namespace hvsim {

namespace ept {
// Entry bits (SDM Table 29-1 .. 29-6) and EPTP fields (SDM 25.6.11).
constexpr uint64_t R = 1ull << 0, W = 1ull << 1, X = 1ull << 2, IGNORE_PAT = 1ull << 6,
                   PAGE = 1ull << 7, A = 1ull << 8, D = 1ull << 9, UX = 1ull << 10;
constexpr unsigned kMemoryTypeShift = 3;
constexpr uint64_t kMemoryTypeMask = 7ull << kMemoryTypeShift;
constexpr uint64_t kUncacheable = 0, kWriteBack = 6;
constexpr uint64_t EPTP_WB = 6, EPTP_WALK_4 = 3ull << 3, EPTP_AD = 1ull << 6;
// Exit reasons (SDM Appendix C) and the EPT-violation exit qualification (SDM Table 28-7).
constexpr uint32_t kExitEptViolation = 48, kExitEptMisconfig = 49;
namespace qual {
constexpr uint64_t READ = 1ull << 0, WRITE = 1ull << 1, FETCH = 1ull << 2, READABLE = 1ull << 3,
                   WRITABLE = 1ull << 4, EXECUTABLE = 1ull << 5, LINEAR_VALID = 1ull << 7,
                   TRANSLATION = 1ull << 8;
}
}  // namespace ept

enum class EptPageSize : uint8_t { Size4K, Size2M, Size1G };

struct EptStep {
  int level = 0;  // 4 = EPT PML4 ... 1 = EPT PT
  uint64_t entry_mpa = 0;
  uint64_t entry = 0;
};

enum class EptOutcome : uint8_t { Ok, Violation, Misconfig };

struct EptWalk {
  EptOutcome outcome = EptOutcome::Violation;
  std::array<EptStep, 4> steps{};
  int step_count = 0;
  uint64_t mpa = 0;        // of the byte asked for, when Ok
  uint64_t page_size = 0;
  // The logical AND of R, W, X over the entries used (SDM 28.2.3.2: qualification bits 3-5);
  // all false when an entry was not present.
  bool readable = false, writable = false, executable = false;
  uint64_t memory_type = 0;
};

// Walks the EPT rooted at `eptp` for `gpa`. `access` is what the access needs (a guest
// paging-structure access with EPT A/D enabled counts as a write, SDM 29.3.3.2). With A/D
// enabled in the EPTP and `set_ad`, sets A in every entry used and D in the leaf on a write.
EptWalk ept_walk(PageTableMemory& tables, uint64_t eptp, uint64_t gpa, Access access, bool set_ad);

// The EPT-violation exit qualification for a failed walk.
uint64_t ept_violation_qualification(const EptWalk& w, Access access, bool linear_valid, bool translation);

// VMM-built EPT for a guest: every range of its p2m mapped read/write/execute, write-back,
// with the largest pages up to `max_page` that alignment allows. Device windows and holes
// stay unmapped (an access there is an EPT violation).
class EptTables {
 public:
  static Result<EptTables> build(VmmFrames& frames, const P2m& p2m, EptPageSize max_page, bool accessed_dirty);
  uint64_t eptp() const { return eptp_; }
  uint64_t root() const { return eptp_ & ~0xfffull; }
  bool accessed_dirty() const { return eptp_ & ept::EPTP_AD; }
  // Changes one entry's bits in place (tests, and the VMM's policies): the leaf covering gpa.
  // Handing out the pointer counts as a change: cached translations are dropped.
  uint64_t* leaf_entry(uint64_t gpa);
  // Bumped by every change the VMM makes; translation caches compare it.
  uint64_t generation() const { return generation_; }
  VmmFrames& frames() { return *frames_; }

 private:
  EptTables(VmmFrames& f, uint64_t eptp) : frames_(&f), eptp_(eptp) {}
  Result<void> map(uint64_t gpa, uint64_t mpa, uint64_t size, int level);
  VmmFrames* frames_;
  uint64_t eptp_;
  uint64_t generation_ = 1;
};

}  // namespace hvsim
