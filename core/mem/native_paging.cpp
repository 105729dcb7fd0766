#include "core/mem/native_paging.hpp"

namespace hvsim {

FillResult NativePaging::fill(const FillRequest& req) {
  FillResult r;
  ++counters_.fills;
  WalkResult w = walk_page_tables(ram_, control(), req.page_va, req.access, req.cpl, true);
  counters_.walk_references += static_cast<uint64_t>(w.step_count);
  if (w.unbacked_table) report_unbacked({w.unbacked_entry_gpa, req.page_va, req.access, true});
  if (!w.ok) {
    r.non_canonical = w.non_canonical;
    r.pf_error_code = w.pf_error_code;
    return r;
  }
  uint64_t page = w.gpa & ~0xfffull;
  r.ok = true;
  r.read = w.can_read;
  // Withhold write until the page is dirty, so the first write comes back here to set D.
  r.write = w.can_write && w.dirty;
  r.exec = w.can_exec;
  r.page_size = w.page_size;
  if (auto mpa = p2m_.machine_address(page); mpa && ram_.contains(page, kPageSize)) {
    r.cpu_pa = *mpa;
    return r;
  }
  return outside_ram(page, req, r);
}

std::optional<uint64_t> NativePaging::probe(uint64_t va) { return probe_guest_tables(va); }

}  // namespace hvsim
