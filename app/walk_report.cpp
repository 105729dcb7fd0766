#include "app/walk_report.hpp"

#include <fmt/format.h>

#include "core/mem/entry_text.hpp"
#include "core/mem/ept_paging.hpp"
#include "core/mem/shadow_paging.hpp"

namespace hvsim {
namespace {

void guest_steps(std::string& out, const WalkResult& w, const char* where, const EptTranslation* ept) {
  for (int i = 0; i < w.step_count; ++i) {
    const WalkStep& s = w.steps[i];
    out += fmt::format("  guest {:<4} entry at {} {:#x} = {:#018x}  {}\n", paging_level_name(s.level), where, s.entry_gpa, s.entry,
                       guest_entry_rights(s.entry));
    if (ept && i < 4) {
      const EptWalk& e = ept->guest_tables[i];
      for (int k = 0; k < e.step_count; ++k) {
        out += fmt::format("      EPT {:<4} entry at mpa {:#x} = {:#018x}  {}\n", paging_level_name(e.steps[k].level),
                           e.steps[k].entry_mpa, e.steps[k].entry, ept_entry_rights(e.steps[k].entry));
      }
      if (e.outcome == EptOutcome::Ok) out += fmt::format("      -> the guest entry is at mpa {:#x}\n", e.mpa);
    }
  }
}

std::string outcome(const WalkResult& w) {
  if (w.non_canonical) return "non-canonical address: #GP(0)\n";
  if (!w.ok) return fmt::format("page fault: error code {:#x}\n", w.pf_error_code);
  return fmt::format("-> gpa {:#x} ({} KiB page), read {} write {} execute {}\n", w.gpa, w.page_size >> 10,
                     w.can_read ? "yes" : "no", w.can_write ? "yes" : "no", w.can_exec ? "yes" : "no");
}

}  // namespace

std::string walk_report(Vm& vm, uint64_t va, Access access, unsigned cpl) {
  GuestMmu& mmu = vm.mmu();
  const PagingControl ctl = mmu.control();
  std::string out = fmt::format("walk of {:#x} ({}, CPL {}) with {} paging; CR3 {:#x}, after {} instructions\n", va,
                                access_name(access), cpl, paging_mode_name(vm.config().paging), ctl.cr3,
                                vm.cpu().instructions_retired());
  if (auto* ept = dynamic_cast<EptPaging*>(&mmu)) {
    EptTranslation t = ept->translate(va, access, cpl);
    out += fmt::format("EPTP {:#x}\n", ept->tables().eptp());
    guest_steps(out, t.guest, "gpa", &t);
    out += "  " + outcome(t.guest);
    if (t.guest.ok) {
      for (int k = 0; k < t.final.step_count; ++k) {
        out += fmt::format("      EPT {:<4} entry at mpa {:#x} = {:#018x}  {}\n", paging_level_name(t.final.steps[k].level),
                           t.final.steps[k].entry_mpa, t.final.steps[k].entry, ept_entry_rights(t.final.steps[k].entry));
      }
    }
    if (t.ept_failed) {
      out += fmt::format("EPT {} at gpa {:#x} (exit reason {})\n",
                         t.failed.outcome == EptOutcome::Misconfig ? "misconfiguration" : "violation", t.failed_gpa,
                         t.failed.outcome == EptOutcome::Misconfig ? ept::kExitEptMisconfig : ept::kExitEptViolation);
    } else if (t.guest.ok) {
      out += fmt::format("machine address {:#x}, owned by {}\n", t.mpa, "'" + vm.config().name + "'");
    }
    out += fmt::format("references: {}\n", t.references);
    return out;
  }
  if (auto* shadow = dynamic_cast<ShadowPaging*>(&mmu)) {
    ShadowTranslation t = shadow->translate(va, access, cpl);
    if (t.shadow.step_count == 0) {
      out += "  shadow: no root for this CR3 yet\n";
    }
    for (int i = 0; i < t.shadow.step_count; ++i) {
      const WalkStep& s = t.shadow.steps[i];
      out += fmt::format("  shadow {:<4} entry at mpa {:#x} = {:#018x}  {}\n", paging_level_name(s.level), s.entry_gpa, s.entry,
                         guest_entry_rights(s.entry));
    }
    out += t.shadow_hit ? "  shadow hit: the MMU needs nothing more\n"
                        : "  shadow miss: a hidden page fault; the VMM walks the guest's tables:\n";
    guest_steps(out, t.guest, "gpa", nullptr);
    out += "  " + outcome(t.guest);
    if (t.guest.ok) out += fmt::format("machine address {:#x}\n", t.mpa);
    out += fmt::format("references: {} (shadow) + {} (guest, on a miss)\n", t.shadow.step_count, t.guest.step_count);
    return out;
  }
  WalkResult w = walk_page_tables(vm.ram(), ctl, va, access, cpl, false);
  guest_steps(out, w, "gpa", nullptr);
  out += "  " + outcome(w);
  if (w.ok) {
    if (auto mpa = mmu.p2m().machine_address(w.gpa)) out += fmt::format("machine address {:#x}\n", *mpa);
  }
  out += fmt::format("references: {}\n", w.step_count);
  return out;
}

}  // namespace hvsim
