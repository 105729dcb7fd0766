#include "core/mem/ept_paging.hpp"

namespace hvsim {
namespace {

// The guest's page walk reads its entries at guest-physical addresses; each goes through the
// EPT to machine memory (the first dimension's inner loop).
class EptGuestTables : public PageTableMemory {
 public:
  EptGuestTables(MachineMemory& m, EptTables& ept, EptTranslation& t, bool side_effects)
      : machine_(m), ept_(ept), t_(t), side_effects_(side_effects) {}
  uint64_t* entry(uint64_t gpa) override {
    if (t_.ept_failed) return nullptr;
    // With EPT A/D enabled, guest paging-structure accesses count as writes (SDM 29.3.3.2).
    Access need = ept_.accessed_dirty() ? Access::Write : Access::Read;
    EptWalk w = ept_walk(ept_.frames(), ept_.eptp(), gpa, need, side_effects_);
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
  bool side_effects_;
  int step_ = 0;
};

}  // namespace

EptTranslation EptPaging::walk(const PagingControl& ctl, uint64_t va, Access access, unsigned cpl, bool side_effects) {
  EptTranslation t;
  EptGuestTables tables(machine_, ept_, t, side_effects);
  t.guest = walk_page_tables(tables, ctl, va, access, cpl, side_effects);
  if (!t.guest.ok) return t;
  t.final = ept_walk(ept_.frames(), ept_.eptp(), t.guest.gpa, access, side_effects);
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

EptTranslation EptPaging::translate(uint64_t va, Access access, unsigned cpl) {
  PagingControl c = control();
  return walk(c, va, access, cpl, false);
}

FillResult EptPaging::fill(const FillRequest& req) {
  FillResult r;
  ++counters_.fills;
  EptTranslation t = walk(control(), req.page_va, req.access, req.cpl, true);
  counters_.walk_references += t.references;
  if (t.ept_failed) {
    // The VMM's policy for a guest-physical address outside the p2m: an isolation event, then
    // what the bus does there (device window or nothing).
    if (t.failed.outcome == EptOutcome::Misconfig) ++counters_.ept_misconfigs;
    else ++counters_.ept_violations;
    if (t.ept_failed_in_table) {
      report_unbacked({t.failed_gpa, req.page_va, req.access, true});
      r.pf_error_code = (req.access == Access::Write ? pfec::W : 0) | (req.cpl == 3 ? pfec::U : 0) | pfec::P | pfec::RSVD;
      return r;  // a page walk through nothing reads all ones: reserved bits set
    }
    r.ok = true;
    r.read = t.guest.can_read;
    r.write = t.guest.can_write && t.guest.dirty;
    r.exec = t.guest.can_exec;
    return outside_ram(t.failed_gpa & ~0xfffull, req, r);
  }
  if (!t.guest.ok) {
    r.non_canonical = t.guest.non_canonical;
    r.pf_error_code = t.guest.pf_error_code;
    return r;
  }
  r.ok = true;
  r.read = t.guest.can_read && t.final.readable;
  r.write = t.guest.can_write && t.guest.dirty && t.final.writable;
  r.exec = t.guest.can_exec && t.final.executable;
  r.cpu_pa = t.mpa & ~0xfffull;
  return r;
}

std::optional<uint64_t> EptPaging::probe(uint64_t va) {
  PagingControl c = control();
  c.rflags_ac = true;
  EptTranslation t = walk(c, va, Access::Read, 0, false);
  if (!t.guest.ok) return std::nullopt;
  if (t.ept_failed) return t.guest.gpa;  // not RAM: the caller finds no code there
  return t.mpa;
}

}  // namespace hvsim
