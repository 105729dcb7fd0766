#pragma once
// Shadow paging: the MMU walks the VMM's shadow tables, which map guest-linear addresses
// straight to machine frames, built lazily from the guest's own tables:
// - a fill that misses in the shadow is a hidden page fault: the VMM walks the guest's tables
//   (setting A, and D on a write, as the hardware would), and either builds the shadow entry
//   or, when the guest's tables do not allow the access, reflects a true page fault with the
//   guest's error code;
// - every guest page that holds a paging-structure entry the VMM has walked is traced: shadow
//   entries map it read-only, a write to it is let through once and applied at the next block
//   boundary (sync), dropping the shadow entries built from the entries that changed, so the
//   guest never sees a stale translation where the architecture would not allow one;
// - a shadow entry is writable only once the guest's entry is dirty, so the first write comes
//   back to set D;
// - one shadow root per guest CR3, a few kept (least recently used evicted): a CR3 switch
//   between cached address spaces costs no rebuild.
#include <array>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/mem/guest_mmu.hpp"
#include "core/mem/vmm_frames.hpp"

namespace hvsim {

struct ShadowTranslation {
  WalkResult shadow;  // the walk the MMU does (entries at machine addresses)
  WalkResult guest;   // the guest's own tables (entries at guest-physical addresses)
  bool shadow_hit = false;
  uint64_t mpa = 0;   // where the guest's translation leads (when it succeeds)
};

class ShadowPaging : public GuestMmu {
 public:
  static constexpr size_t kMaxRoots = 8;
  // A traced page written this many times without the VMM walking through it in between is
  // no page table any more (a freed table being reused, the allocator zeroing it): it stops
  // being traced and the shadow entries built from it are dropped (KVM's write-flooding
  // detection). 0 turns the detection off: every write to a page table traps, as in the
  // first VT-x VMMs (Adams & Agesen's ptemod).
  static constexpr unsigned kDefaultFloodLimit = 3;
  void set_flood_limit(unsigned writes) { flood_limit_ = writes; }
  ShadowPaging(GuestRam& ram, P2m p2m, VmmFrames& frames) : GuestMmu(ram, std::move(p2m)), frames_(frames) {}
  FillResult fill(const FillRequest& request) override;
  std::optional<uint64_t> probe(uint64_t va) override;
  void sync() override;
  // Drops the shadow entry for `va` in the current root (the VMM's INVLPG).
  void invlpg(uint64_t va) override;
  ShadowTranslation translate(uint64_t va, Access access, unsigned cpl);
  void vmm_will_write(uint64_t gpa, size_t size) override;
  void set_trap_traced_writes(bool on) override { trap_traced_writes_ = on; }
  std::optional<TrappedWrite> take_trapped_write() override {
    auto w = trapped_write_;
    trapped_write_.reset();
    return w;
  }
  void allow_traced_write_once() override { allow_traced_write_once_ = true; }
  bool traces_page(uint64_t gpa) const override { return is_traced(gpa); }
  size_t roots_cached() const { return roots_.size(); }
  bool is_traced(uint64_t gpa) const { return traced_.count(gpa & ~0xfffull) != 0; }

 private:
  struct Root {
    uint64_t guest_cr3 = 0, table = 0, last_used = 0;
  };
  struct Leaf {
    std::array<uint64_t, 4> sources{};  // guest entries it was built from (guest-physical)
    int source_count = 0;
    uint64_t page_gpa = 0;              // the guest page it maps
  };
  uint64_t root_for(uint64_t cr3);
  uint64_t leaf_slot(uint64_t root, uint64_t va);  // creates the tables on the way; 0 when out of frames
  void set_leaf(uint64_t slot, uint64_t value, const WalkResult& guest, uint64_t page_gpa);
  void drop_leaf(uint64_t slot);
  void free_tree(uint64_t table, int level);
  void trace(const WalkResult& guest);
  void snapshot(uint64_t page_gpa);
  void untrace(uint64_t page_gpa);
  void reset();
  PagingControl shadow_control(const PagingControl& guest, uint64_t root) const;

  VmmFrames& frames_;
  bool trap_traced_writes_ = false, allow_traced_write_once_ = false;
  std::optional<TrappedWrite> trapped_write_;
  std::vector<Root> roots_;
  uint64_t current_cr3_ = ~0ull;
  uint64_t use_clock_ = 0;
  std::unordered_map<uint64_t, Leaf> leaves_;                          // by shadow entry address
  std::unordered_map<uint64_t, std::vector<uint64_t>> dependents_;    // guest entry -> shadow entries
  std::unordered_map<uint64_t, std::vector<uint64_t>> rmap_;          // guest page -> shadow entries
  std::unordered_map<uint64_t, unsigned> traced_;                      // guest page -> writes since last walked
  std::unordered_map<uint64_t, uint64_t> page_dependents_;            // guest page -> shadow entries built from it
  std::unordered_map<uint64_t, std::array<uint64_t, 512>> pending_;   // traced pages since the last sync
  std::vector<uint64_t> flooded_;                                      // to untrace at the next sync
  unsigned flood_limit_ = kDefaultFloodLimit;
  bool need_flush_ = false;
};

}  // namespace hvsim
