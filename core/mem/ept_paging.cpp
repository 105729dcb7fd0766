#include "core/mem/ept_paging.hpp"

#include <algorithm>

namespace hvsim {
namespace {

// The guest's page walk reads its entries at guest-physical addresses; each goes through the
// EPT to machine memory (the first dimension's inner loop). Two views: the recording one for
// translate() (every EPT entry kept), the fast one for fills (cached, counted).
class RecordingTables : public PageTableMemory {
 public:
  RecordingTables(MachineMemory& m, EptTables& ept, EptTranslation& t) : machine_(m), ept_(ept), t_(t) {}
  uint64_t* entry(uint64_t gpa) override {
    if (t_.ept_failed) return nullptr;
    // With EPT A/D enabled, guest paging-structure accesses count as writes (SDM 29.3.3.2).
    Access need = ept_.accessed_dirty() ? Access::Write : Access::Read;
    EptWalk w = ept_walk(ept_.frames(), ept_.eptp(), gpa, need, false);
    t_.references += static_cast<unsigned>(w.step_count) + (w.outcome == EptOutcome::Ok ? 1 : 0);
    if (step_ < 4) t_.guest_tables[step_] = w;
    ++step_;
    if (w.outcome != EptOutcome::Ok) {
      t_.ept_failed = t_.ept_failed_in_table = true;
      t_.failed_gpa = gpa;
      t_.failed = w;
      return nullptr;
    }
    return reinterpret_cast<uint64_t*>(machine_.host(w.mpa, 8));
  }

 private:
  MachineMemory& machine_;
  EptTables& ept_;
  EptTranslation& t_;
  int step_ = 0;
};

class FillTables : public PageTableMemory {
 public:
  FillTables(MachineMemory& m, EptPaging& mmu)
      : machine_(m), mmu_(mmu), need_(mmu.tables().accessed_dirty() ? Access::Write : Access::Read) {}
  uint64_t* entry(uint64_t gpa) override {
    EptPaging::Leaf leaf = mmu_.second_dimension(gpa, need_);
    references += static_cast<unsigned>(leaf.steps) + (leaf.ok ? 1 : 0);
    if (!leaf.ok) {
      failed = true;
      failed_gpa = gpa;
      return nullptr;
    }
    return reinterpret_cast<uint64_t*>(machine_.host(leaf.mpa, 8));
  }
  unsigned references = 0;
  bool failed = false;
  uint64_t failed_gpa = 0;

 private:
  MachineMemory& machine_;
  EptPaging& mmu_;
  Access need_;
};

}  // namespace

EptTranslation EptPaging::walk(const PagingControl& ctl, uint64_t va, Access access, unsigned cpl) {
  EptTranslation t;
  RecordingTables tables(machine_, ept_, t);
  t.guest = walk_page_tables(tables, ctl, va, access, cpl, false);
  if (!t.guest.ok) return t;
  t.final = ept_walk(ept_.frames(), ept_.eptp(), t.guest.gpa, access, false);
  t.references += static_cast<unsigned>(t.final.step_count);
  if (t.final.outcome != EptOutcome::Ok) {
    t.ept_failed = true;
    t.failed_gpa = t.guest.gpa;
    t.failed = t.final;
    return t;
  }
  t.mpa = t.final.mpa;
  return t;
}

namespace {
// CacheEntry::value low bits
constexpr uint64_t kCacheR = 1, kCacheW = 2, kCacheX = 4, kCacheDirty = 8;
constexpr unsigned kCacheStepsShift = 4;   // 3 bits: EPT levels walked
}  // namespace

EptPaging::Leaf EptPaging::second_dimension(uint64_t gpa, Access need) {
  if (cache_generation_ != ept_.generation()) {  // the VMM changed its tables
    std::fill(cache_.begin(), cache_.end(), CacheEntry{});
    cache_generation_ = ept_.generation();
  }
  CacheEntry& c = cache_[(gpa >> 12) & (kCacheSize - 1)];
  const bool write = need == Access::Write;
  const uint64_t right = need == Access::Read ? kCacheR : write ? kCacheW : kCacheX;
  Leaf leaf;
  if (c.tag == ((gpa & ~0xfffull) | 1) && (!write || (c.value & kCacheDirty)) && (c.value & right)) {
    leaf.ok = true;
    leaf.steps = static_cast<int>((c.value >> kCacheStepsShift) & 7);
    leaf.mpa = (c.value & ~0xfffull) | (gpa & 0xfff);
    leaf.readable = c.value & kCacheR;
    leaf.writable = c.value & kCacheW;
    leaf.executable = c.value & kCacheX;
    return leaf;
  }
  EptWalk w = ept_walk(ept_.frames(), ept_.eptp(), gpa, need, true);
  leaf.steps = w.step_count;
  if (w.outcome != EptOutcome::Ok) return leaf;
  leaf.ok = true;
  leaf.mpa = w.mpa;
  leaf.readable = w.readable;
  leaf.writable = w.writable;
  leaf.executable = w.executable;
  c.tag = (gpa & ~0xfffull) | 1;
  c.value = (w.mpa & ~0xfffull) | (w.readable ? kCacheR : 0) | (w.writable ? kCacheW : 0) |
            (w.executable ? kCacheX : 0) | (write || !ept_.accessed_dirty() ? kCacheDirty : 0) |
            (static_cast<uint64_t>(w.step_count) << kCacheStepsShift);
  return leaf;
}

EptTranslation EptPaging::translate(uint64_t va, Access access, unsigned cpl) {
  return walk(control(), va, access, cpl);
}

FillResult EptPaging::fill(const FillRequest& req) {
  FillResult r;
  ++counters_.fills;
  FillTables tables(machine_, *this);
  const PagingControl ctl = control();
  WalkResult guest = walk_page_tables(tables, ctl, req.page_va, req.access, req.cpl, true);
  Leaf final;
  uint64_t failed_gpa = tables.failed_gpa;
  bool failed = tables.failed;
  if (guest.ok) {
    final = second_dimension(guest.gpa, req.access);
    tables.references += static_cast<unsigned>(final.steps);
    if (!final.ok) {
      failed = true;
      failed_gpa = guest.gpa;
    }
  }
  counters_.walk_references += tables.references;
  if (failed) {
    // The VMM's policy for a guest-physical address outside the p2m: an isolation event, then
    // what the bus does there (device window or nothing).
    const bool in_table = !guest.ok;
    Access need = in_table && ept_.accessed_dirty() ? Access::Write : req.access;
    const bool misconfig =
        ept_walk(ept_.frames(), ept_.eptp(), failed_gpa, need, false).outcome == EptOutcome::Misconfig;
    if (misconfig) {
      // The VMM's own tables are wrong, not the guest's reach: no isolation event. Until the
      // VMM repairs them the access sees the empty bus.
      ++counters_.ept_misconfigs;
      const bool fetch = req.access == Access::Fetch;
      r.ok = true;
      r.read = true;
      r.cpu_pa = fetch ? kOpenBusCodePage : kOpenBusPage;
      r.write = !fetch;  // the empty bus drops writes
      r.exec = fetch;
      if (!guest.ok) {
        r.ok = false;
        r.pf_error_code = (req.access == Access::Write ? pfec::W : 0) | (req.cpl == 3 ? pfec::U : 0) | pfec::P | pfec::RSVD;
      }
      return r;
    }
    ++counters_.ept_violations;
    if (in_table) {
      report_unbacked({failed_gpa, req.page_va, req.access, true});
      r.pf_error_code = (req.access == Access::Write ? pfec::W : 0) | (req.cpl == 3 ? pfec::U : 0) | pfec::P | pfec::RSVD;
      return r;  // a page walk through nothing reads all ones: reserved bits set
    }
    r.ok = true;
    r.read = guest.can_read;
    r.write = guest.can_write && guest.dirty;
    r.exec = guest.can_exec;
    r.page_size = guest.page_size;
    return outside_ram(failed_gpa & ~0xfffull, req, r);
  }
  if (!guest.ok) {
    r.non_canonical = guest.non_canonical;
    r.pf_error_code = guest.pf_error_code;
    return r;
  }
  r.ok = true;
  r.read = guest.can_read && final.readable;
  r.write = guest.can_write && guest.dirty && final.writable;
  r.exec = guest.can_exec && final.executable;
  r.cpu_pa = final.mpa & ~0xfffull;
  r.page_size = guest.page_size;  // the guest's page, whatever size the EPT maps it with
  return r;
}

std::optional<uint64_t> EptPaging::probe(uint64_t va) {
  PagingControl c = control();
  c.rflags_ac = true;
  EptTranslation t = walk(c, va, Access::Read, 0);
  if (!t.guest.ok) return std::nullopt;
  if (t.ept_failed) return t.guest.gpa;  // not RAM: the caller finds no code there
  return t.mpa;
}

}  // namespace hvsim
