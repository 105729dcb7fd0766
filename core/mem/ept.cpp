#include "core/mem/ept.hpp"

namespace hvsim {
namespace {
constexpr uint64_t kAddrMask = ((1ull << kMaxPhysAddrBits) - 1) & ~0xfffull;
constexpr uint64_t kHighReserved = ((1ull << 52) - 1) & ~((1ull << kMaxPhysAddrBits) - 1);

bool present(uint64_t e) { return (e & (ept::R | ept::W | ept::X)) != 0; }

// SDM 29.3.3.1: an entry that is present but cannot be used as it is.
bool misconfigured(uint64_t e, int level, bool leaf) {
  if ((e & ept::W) && !(e & ept::R)) return true;  // write without read
  if (e & kHighReserved) return true;
  if (!leaf) return (e & 0xf8ull) != 0;            // bits 7:3 of a table pointer
  uint64_t type = (e & ept::kMemoryTypeMask) >> ept::kMemoryTypeShift;
  if (type == 2 || type == 3 || type == 7) return true;
  if (level == 3 && (e & 0x3ffff000ull)) return true;  // 1G page: address bits 29:12
  if (level == 2 && (e & 0x1ff000ull)) return true;    // 2M page: address bits 20:12
  return false;
}
}  // namespace

EptWalk ept_walk(PageTableMemory& tables, uint64_t eptp, uint64_t gpa, Access access, bool set_ad) {
  EptWalk w;
  const bool ad = set_ad && (eptp & ept::EPTP_AD);
  bool r = true, wr = true, x = true;
  uint64_t table = eptp & kAddrMask;
  uint64_t* used[4] = {};
  for (int level = 4; level >= 1; --level) {
    uint64_t entry_mpa = table + ((gpa >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
    uint64_t* p = tables.entry(entry_mpa);
    if (!p) {  // a table outside the VMM's frames: the VMM's own bug, reported as misconfig
      w.outcome = EptOutcome::Misconfig;
      return w;
    }
    uint64_t e = *p;
    w.steps[w.step_count++] = EptStep{level, entry_mpa, e};
    if (!present(e)) {
      w.outcome = EptOutcome::Violation;
      return w;
    }
    const bool leaf = level == 1 || ((level == 2 || level == 3) && (e & ept::PAGE));
    if (misconfigured(e, level, leaf) || (level == 4 && (e & ept::PAGE))) {
      w.outcome = EptOutcome::Misconfig;
      return w;
    }
    r &= (e & ept::R) != 0;
    wr &= (e & ept::W) != 0;
    x &= (e & ept::X) != 0;
    used[4 - level] = p;
    if (leaf) {
      w.page_size = 1ull << (12 + 9 * (level - 1));
      w.mpa = (e & kAddrMask & ~(w.page_size - 1)) | (gpa & (w.page_size - 1));
      w.memory_type = (e & ept::kMemoryTypeMask) >> ept::kMemoryTypeShift;
      break;
    }
    table = e & kAddrMask;
  }
  w.readable = r;
  w.writable = wr;
  w.executable = x;
  const bool allowed = access == Access::Read ? r : access == Access::Write ? wr : x;
  if (!allowed) {
    w.outcome = EptOutcome::Violation;
    return w;
  }
  if (ad) {
    for (uint64_t* p : used)
      if (p) *p |= ept::A;
    if (access == Access::Write) *used[w.step_count - 1] |= ept::D;
  }
  w.outcome = EptOutcome::Ok;
  return w;
}

uint64_t ept_violation_qualification(const EptWalk& w, Access access, bool linear_valid, bool translation) {
  uint64_t q = access == Access::Read ? ept::qual::READ : access == Access::Write ? ept::qual::WRITE : ept::qual::FETCH;
  if (w.readable) q |= ept::qual::READABLE;
  if (w.writable) q |= ept::qual::WRITABLE;
  if (w.executable) q |= ept::qual::EXECUTABLE;
  if (linear_valid) {
    q |= ept::qual::LINEAR_VALID;
    if (translation) q |= ept::qual::TRANSLATION;
  }
  return q;
}

Result<EptTables> EptTables::build(VmmFrames& frames, const P2m& p2m, EptPageSize max_page, bool accessed_dirty) {
  uint64_t root = frames.allocate();
  if (!root) return make_error("EPT: no VMM frame for the root table");
  EptTables t(frames, root | ept::EPTP_WB | ept::EPTP_WALK_4 | (accessed_dirty ? ept::EPTP_AD : 0));
  const int max_level = max_page == EptPageSize::Size1G ? 3 : max_page == EptPageSize::Size2M ? 2 : 1;
  for (const P2mRange& r : p2m.ranges()) {
    uint64_t done = 0;
    while (done < r.size) {
      uint64_t gpa = r.gpa + done, mpa = r.mpa + done;
      int level = max_level;
      for (; level > 1; --level) {
        uint64_t size = 1ull << (12 + 9 * (level - 1));
        if ((gpa & (size - 1)) == 0 && (mpa & (size - 1)) == 0 && r.size - done >= size) break;
      }
      uint64_t size = 1ull << (12 + 9 * (level - 1));
      if (auto m = t.map(gpa, mpa, size, level); !m) return m.error();
      done += size;
    }
  }
  return t;
}

Result<void> EptTables::map(uint64_t gpa, uint64_t mpa, uint64_t, int leaf_level) {
  uint64_t table = root();
  for (int level = 4; level > leaf_level; --level) {
    uint64_t* e = frames_->entry(table + ((gpa >> (12 + 9 * (level - 1))) & 0x1ff) * 8);
    if (!present(*e)) {
      uint64_t next = frames_->allocate();
      if (!next) return make_error("EPT: the VMM's frames are exhausted");
      *e = next | ept::R | ept::W | ept::X;
    }
    table = *e & kAddrMask;
  }
  uint64_t* leaf = frames_->entry(table + ((gpa >> (12 + 9 * (leaf_level - 1))) & 0x1ff) * 8);
  *leaf = mpa | ept::R | ept::W | ept::X | (ept::kWriteBack << ept::kMemoryTypeShift) | (leaf_level > 1 ? ept::PAGE : 0);
  return {};
}

uint64_t* EptTables::leaf_entry(uint64_t gpa) {
  ++generation_;
  uint64_t table = root();
  for (int level = 4; level >= 1; --level) {
    uint64_t* e = frames_->entry(table + ((gpa >> (12 + 9 * (level - 1))) & 0x1ff) * 8);
    if (!e || !present(*e)) return nullptr;
    if (level == 1 || ((level == 2 || level == 3) && (*e & ept::PAGE))) return e;
    table = *e & kAddrMask;
  }
  return nullptr;
}

}  // namespace hvsim
