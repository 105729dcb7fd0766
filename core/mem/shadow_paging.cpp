#include "core/mem/shadow_paging.hpp"

#include <algorithm>

namespace hvsim {
namespace {
constexpr uint64_t kP = 1ull << 0, kRW = 1ull << 1, kUS = 1ull << 2, kXD = 1ull << 63;
constexpr uint64_t kAddrMask = ((1ull << kMaxPhysAddrBits) - 1) & ~0xfffull;
constexpr uint64_t kTableFlags = kP | kRW | kUS;  // the leaf alone carries the guest's rights

void erase_one(std::vector<uint64_t>& v, uint64_t x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it != v.end()) {
    *it = v.back();
    v.pop_back();
  }
}

struct Rights {
  bool user = true, writable = true, no_exec = false;
};
// The guest's combined rights over all levels of a successful walk (SDM 4.6).
Rights combined_rights(const WalkResult& w, bool nxe) {
  Rights r;
  for (int i = 0; i < w.step_count; ++i) {
    uint64_t e = w.steps[i].entry;
    r.user &= (e & kUS) != 0;
    r.writable &= (e & kRW) != 0;
    r.no_exec |= nxe && (e & kXD);
  }
  return r;
}
}  // namespace

PagingControl ShadowPaging::shadow_control(const PagingControl& guest, uint64_t root) const {
  PagingControl c = guest;
  c.cr3 = root;
  return c;
}

uint64_t ShadowPaging::root_for(uint64_t cr3) {
  const uint64_t key = cr3 & kAddrMask;
  if (key != current_cr3_) {
    if (current_cr3_ != ~0ull) ++counters_.shadow_root_switches;
    current_cr3_ = key;
  }
  for (Root& r : roots_) {
    if (r.guest_cr3 == key) {
      r.last_used = ++use_clock_;
      return r.table;
    }
  }
  if (roots_.size() >= kMaxRoots) {
    auto lru = std::min_element(roots_.begin(), roots_.end(),
                                [](const Root& a, const Root& b) { return a.last_used < b.last_used; });
    free_tree(lru->table, 4);
    roots_.erase(lru);
  }
  uint64_t table = frames_.allocate();
  if (!table) {
    reset();
    table = frames_.allocate();
    if (!table) return 0;
  }
  ++counters_.shadow_root_builds;
  roots_.push_back(Root{key, table, ++use_clock_});
  return table;
}

void ShadowPaging::free_tree(uint64_t table, int level) {
  for (int i = 0; i < 512; ++i) {
    uint64_t slot = table + static_cast<uint64_t>(i) * 8;
    uint64_t* e = frames_.entry(slot);
    if (!e || !(*e & kP)) continue;
    if (level == 1) drop_leaf(slot);
    else free_tree(*e & kAddrMask, level - 1);
  }
  frames_.release(table);
  need_flush_ = true;
}

uint64_t ShadowPaging::leaf_slot(uint64_t root, uint64_t va) {
  uint64_t table = root;
  for (int level = 4; level >= 2; --level) {
    uint64_t* e = frames_.entry(table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8);
    if (!(*e & kP)) {
      uint64_t next = frames_.allocate();
      if (!next) return 0;
      *e = next | kTableFlags;
    }
    table = *e & kAddrMask;
  }
  return table + ((va >> 12) & 0x1ff) * 8;
}

void ShadowPaging::drop_leaf(uint64_t slot) {
  if (uint64_t* e = frames_.entry(slot)) {
    if (*e & kP) need_flush_ = true;
    *e = 0;
  }
  auto it = leaves_.find(slot);
  if (it == leaves_.end()) return;
  for (int i = 0; i < it->second.source_count; ++i) {
    auto d = dependents_.find(it->second.sources[i]);
    if (d != dependents_.end()) {
      erase_one(d->second, slot);
      if (d->second.empty()) dependents_.erase(d);
    }
    auto pd = page_dependents_.find(it->second.sources[i] & ~0xfffull);
    if (pd != page_dependents_.end() && --pd->second == 0) page_dependents_.erase(pd);
  }
  if (auto m = rmap_.find(it->second.page_gpa); m != rmap_.end()) {
    erase_one(m->second, slot);
    if (m->second.empty()) rmap_.erase(m);
  }
  leaves_.erase(it);
}

void ShadowPaging::set_leaf(uint64_t slot, uint64_t value, const WalkResult& guest, uint64_t page_gpa) {
  drop_leaf(slot);
  *frames_.entry(slot) = value;
  Leaf leaf;
  leaf.page_gpa = page_gpa;
  for (int i = 0; i < guest.step_count && i < 4; ++i) {
    leaf.sources[leaf.source_count++] = guest.steps[i].entry_gpa;
    dependents_[guest.steps[i].entry_gpa].push_back(slot);
    ++page_dependents_[guest.steps[i].entry_gpa & ~0xfffull];
  }
  rmap_[page_gpa].push_back(slot);
  leaves_.emplace(slot, leaf);
}

void ShadowPaging::snapshot(uint64_t page_gpa) {
  if (pending_.count(page_gpa)) return;
  std::array<uint64_t, 512> copy{};
  ram_.read(page_gpa, copy.data(), kPageSize);
  pending_.emplace(page_gpa, copy);
}

// The guest pages holding the entries of this walk become traced: shadow entries that map
// them lose write permission, and writes that may already be under way are caught by
// comparing the page at the next sync.
void ShadowPaging::trace(const WalkResult& guest) {
  for (int i = 0; i < guest.step_count; ++i) {
    uint64_t page = guest.steps[i].entry_gpa & ~0xfffull;
    auto [it, inserted] = traced_.try_emplace(page, 0);
    it->second = 0;  // walked through: still a page table
    if (!inserted) continue;
    if (auto m = rmap_.find(page); m != rmap_.end()) {
      for (uint64_t slot : m->second) *frames_.entry(slot) &= ~kRW;
      need_flush_ = true;
    }
    snapshot(page);
  }
}

void ShadowPaging::untrace(uint64_t page_gpa) {
  ++counters_.pt_unshadows;
  traced_.erase(page_gpa);
  for (unsigned i = 0; i < 512; ++i) {
    auto d = dependents_.find(page_gpa + i * 8);
    if (d == dependents_.end()) continue;
    std::vector<uint64_t> slots = d->second;
    for (uint64_t slot : slots) drop_leaf(slot);
  }
  if (auto m = rmap_.find(page_gpa); m != rmap_.end()) {  // rebuilt writable on their next use
    std::vector<uint64_t> slots = m->second;
    for (uint64_t slot : slots) drop_leaf(slot);
  }
}

void ShadowPaging::reset() {
  frames_.release_all();
  roots_.clear();
  leaves_.clear();
  dependents_.clear();
  page_dependents_.clear();
  rmap_.clear();
  traced_.clear();
  pending_.clear();
  flooded_.clear();
  need_flush_ = true;
  ++counters_.shadow_resets;
}

FillResult ShadowPaging::fill(const FillRequest& req) {
  FillResult r;
  ++counters_.fills;
  const PagingControl ctl = control();
  if (!is_canonical(req.page_va)) {
    r.non_canonical = true;
    return r;
  }
  uint64_t root = root_for(ctl.cr3);
  if (!root) {
    r.non_canonical = true;  // cannot happen with a sane pool; surfaces as #GP, never a host crash
    return r;
  }
  WalkResult sw = walk_page_tables(frames_, shadow_control(ctl, root), req.page_va, req.access, req.cpl, false);
  counters_.walk_references += static_cast<uint64_t>(sw.step_count);
  if (sw.ok) {
    uint64_t leaf = sw.steps[sw.step_count - 1].entry;
    if (req.access != Access::Write || (leaf & kRW)) {
      r.ok = true;
      r.read = sw.can_read;
      r.write = sw.can_write && (leaf & kRW);
      r.exec = sw.can_exec;
      r.cpu_pa = leaf & kAddrMask;
      r.sync_after = need_flush_;
      return r;
    }
  }

  // The VMM steps in: the guest's own tables decide, and the walk sets A (and D on a write)
  // in them as the hardware would.
  WalkResult gw = walk_page_tables(ram_, ctl, req.page_va, req.access, req.cpl, true);
  counters_.walk_references += static_cast<uint64_t>(gw.step_count);
  for (int i = 0; i < gw.step_count; ++i) {  // our own A/D updates are not guest writes
    uint64_t gpa = gw.steps[i].entry_gpa;
    if (auto p = pending_.find(gpa & ~0xfffull); p != pending_.end()) {
      if (auto v = ram_.load<uint64_t>(gpa)) p->second[(gpa & 0xfff) / 8] = *v;
    }
  }
  if (gw.unbacked_table) {
    report_unbacked({gw.unbacked_entry_gpa, req.page_va, req.access, true});
  }
  if (!gw.ok) {
    ++counters_.true_faults;
    r.non_canonical = gw.non_canonical;
    r.pf_error_code = gw.pf_error_code;
    return r;
  }
  const uint64_t page_gpa = gw.gpa & ~0xfffull;
  auto mpa = p2m_.machine_address(page_gpa);
  r.ok = true;
  r.read = gw.can_read;
  r.write = gw.can_write && gw.dirty;
  r.exec = gw.can_exec;
  if (!mpa || !ram_.contains(page_gpa, kPageSize)) return outside_ram(page_gpa, req, r);  // never shadowed

  trace(gw);
  const bool target_traced = traced_.count(page_gpa) != 0;
  const Rights rights = combined_rights(gw, ctl.efer & efer::NXE);
  uint64_t value = *mpa | kP | (rights.user ? kUS : 0) | (rights.no_exec ? kXD : 0) |
                   (rights.writable && gw.dirty && !target_traced ? kRW : 0);
  uint64_t slot = leaf_slot(root, req.page_va);
  if (!slot) {  // out of VMM frames: start over with empty shadows
    reset();
    root = root_for(ctl.cr3);
    slot = root ? leaf_slot(root, req.page_va) : 0;
  }
  if (slot) set_leaf(slot, value, gw, page_gpa);
  r.cpu_pa = *mpa;
  const bool traced_write = req.access == Access::Write && target_traced;
  if (!traced_write) ++counters_.hidden_faults;  // a miss, or the first write to a clean page
  if (traced_write && trap_traced_writes_ && req.cpl == 0 && !allow_traced_write_once_) {
    // The VMM emulates it (the shadow entry stays read-only): a page fault to the VMM.
    ++counters_.pt_write_traces;
    trapped_write_ = TrappedWrite{req.page_va, page_gpa};
    r.ok = false;
    r.pf_error_code = pfec::P | pfec::W;
    return r;
  }
  if (traced_write) {
    // A write to a page-table page: let it through once, look at what changed at the next
    // block boundary (the TLB entry is flushed then). (Counted already when it was trapped
    // and the VMM let it through.)
    if (!allow_traced_write_once_) ++counters_.pt_write_traces;
    allow_traced_write_once_ = false;
    snapshot(page_gpa);
    r.write = true;
    need_flush_ = true;
    if (flood_limit_ && ++traced_[page_gpa] >= flood_limit_) flooded_.push_back(page_gpa);
  } else {
    // The guest's rights for this privilege level decide this TLB entry (a CPL0 write with
    // CR0.WP=0 may write a read-only page); traced pages stay read-only.
    r.write = r.write && !target_traced;
  }
  r.sync_after = need_flush_;
  return r;
}

void ShadowPaging::vmm_will_write(uint64_t gpa, size_t size) {
  for (uint64_t page = gpa & ~0xfffull; size && page < gpa + size; page += kPageSize) {
    if (traced_.count(page)) snapshot(page);  // sync() compares and drops what depended on it
  }
}

void ShadowPaging::sync() {
  for (auto& [page, before] : pending_) {
    std::array<uint64_t, 512> now{};
    ram_.read(page, now.data(), kPageSize);
    for (unsigned i = 0; i < 512; ++i) {
      if (now[i] == before[i]) continue;
      auto d = dependents_.find(page + i * 8);
      if (d == dependents_.end()) continue;
      std::vector<uint64_t> slots = d->second;
      for (uint64_t slot : slots) drop_leaf(slot);
    }
  }
  // A traced page no shadow entry depends on any more (its tables were freed, or rewritten
  // entry by entry) is a page like any other: writes to it go at full speed.
  for (auto& [page, before] : pending_) {
    if (!page_dependents_.count(page) && traced_.erase(page)) ++counters_.pt_untraced;
  }
  pending_.clear();
  for (uint64_t page : flooded_) {
    if (auto t = traced_.find(page); t != traced_.end() && t->second >= flood_limit_) untrace(page);
  }
  flooded_.clear();
  if (need_flush_ && cpu_) {
    need_flush_ = false;
    cpu_->flush_tlb();
  }
}

void ShadowPaging::invlpg(uint64_t va) {
  ++counters_.shadow_invlpg;
  for (const Root& root : roots_) {
    if (root.guest_cr3 != current_cr3_) continue;
    uint64_t table = root.table;
    for (int level = 4; level >= 2 && table; --level) {
      uint64_t* e = frames_.entry(table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8);
      table = (*e & kP) ? (*e & kAddrMask) : 0;
    }
    if (table) drop_leaf(table + ((va >> 12) & 0x1ff) * 8);
  }
}

std::optional<uint64_t> ShadowPaging::probe(uint64_t va) { return probe_guest_tables(va); }

ShadowTranslation ShadowPaging::translate(uint64_t va, Access access, unsigned cpl) {
  ShadowTranslation t;
  const PagingControl ctl = control();
  for (const Root& root : roots_) {
    if (root.guest_cr3 == (ctl.cr3 & kAddrMask)) {
      t.shadow = walk_page_tables(frames_, shadow_control(ctl, root.table), va, access, cpl, false);
      t.shadow_hit = t.shadow.ok;
    }
  }
  t.guest = walk_page_tables(ram_, ctl, va, access, cpl, false);
  if (t.guest.ok) {
    if (auto mpa = p2m_.machine_address(t.guest.gpa)) t.mpa = *mpa;
  }
  return t;
}

}  // namespace hvsim
