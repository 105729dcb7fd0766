#include "core/mem/page_walker.hpp"

namespace hvsim {
namespace {
constexpr uint64_t kP = 1ull << 0, kRW = 1ull << 1, kUS = 1ull << 2, kA = 1ull << 5,
                   kD = 1ull << 6, kPS = 1ull << 7, kXD = 1ull << 63;
constexpr uint64_t kAddrMask = ((1ull << kMaxPhysAddrBits) - 1) & ~0xfffull;
// Bits 51:MAXPHYADDR must be zero in every entry.
constexpr uint64_t kHighReserved = ((1ull << 52) - 1) & ~((1ull << kMaxPhysAddrBits) - 1);

uint64_t reserved_bits(int level, uint64_t e, bool nxe) {
  uint64_t r = kHighReserved;
  if (!nxe) r |= kXD;
  if (level == 4) r |= kPS;
  if (e & kPS) {
    if (level == 3) r |= 0x3fffe000ull;  // 1G page: bits 29:13
    if (level == 2) r |= 0x1fe000ull;    // 2M page: bits 20:13
  }
  return r;
}
}  // namespace

WalkResult walk_page_tables(PageTableMemory& mem, const PagingControl& ctl, uint64_t va,
                            Access access, unsigned cpl, bool update_ad) {
  WalkResult w;
  if (!is_canonical(va)) {
    w.non_canonical = true;
    return w;
  }
  const bool nxe = ctl.efer & efer::NXE;
  const bool user = cpl == 3;
  uint32_t ec = (access == Access::Write ? pfec::W : 0) | (user ? pfec::U : 0);
  if (access == Access::Fetch && (nxe || (ctl.cr4 & cr4::SMEP))) ec |= pfec::I;

  bool all_rw = true, all_us = true, any_xd = false;
  uint64_t table = ctl.cr3 & kAddrMask;
  uint64_t* leaf = nullptr;
  int leaf_level = 0;
  uint64_t* used[4] = {};
  for (int level = 4; level >= 1; --level) {
    unsigned index = (va >> (12 + 9 * (level - 1))) & 0x1ff;
    uint64_t gpa = table + index * 8;
    uint64_t* p = mem.entry(gpa);
    if (!p) {
      w.unbacked_table = true;
      w.unbacked_entry_gpa = gpa;
      w.pf_error_code = ec | pfec::P | pfec::RSVD;  // reads of nothing return all ones
      return w;
    }
    uint64_t e = *p;
    w.steps[w.step_count++] = WalkStep{level, gpa, e};
    if (!(e & kP)) {
      w.pf_error_code = ec;
      return w;
    }
    if (e & reserved_bits(level, e, nxe)) {
      w.pf_error_code = ec | pfec::P | pfec::RSVD;
      return w;
    }
    all_rw &= (e & kRW) != 0;
    all_us &= (e & kUS) != 0;
    any_xd |= nxe && (e & kXD);
    used[4 - level] = p;
    if (level == 1 || (e & kPS)) {
      leaf = p;
      leaf_level = level;
      break;
    }
    table = e & kAddrMask;
  }
  w.page_size = 1ull << (12 + 9 * (leaf_level - 1));
  uint64_t frame_mask = kAddrMask & ~(w.page_size - 1);
  w.gpa = (*leaf & frame_mask) | (va & (w.page_size - 1));
  w.dirty = *leaf & kD;

  // SDM 4.6: access rights.
  const bool wp = ctl.cr0 & cr0::WP;
  if (user) {
    w.can_read = all_us;
    w.can_write = all_us && all_rw;
    w.can_exec = all_us && !any_xd;
  } else {
    bool smap_blocks = (ctl.cr4 & cr4::SMAP) && all_us && !ctl.rflags_ac;
    w.can_read = !smap_blocks;
    w.can_write = !smap_blocks && (all_rw || !wp);
    w.can_exec = !any_xd && !((ctl.cr4 & cr4::SMEP) && all_us);
  }
  bool allowed = access == Access::Read    ? w.can_read
                 : access == Access::Write ? w.can_write
                                           : w.can_exec;
  if (!allowed) {
    w.pf_error_code = ec | pfec::P;
    return w;
  }
  if (update_ad) {
    for (auto* p : used)
      if (p) *p |= kA;
    if (access == Access::Write) {
      *leaf |= kD;
      w.dirty = true;
    }
  }
  w.ok = true;
  return w;
}

}  // namespace hvsim
