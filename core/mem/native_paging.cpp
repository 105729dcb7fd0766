#include "core/mem/native_paging.hpp"

namespace hvsim {

PagingControl NativePaging::control() const {
  PagingControl c;
  c.cr0 = cpu_->cr(0);
  c.cr3 = cpu_->cr(3);
  c.cr4 = cpu_->cr(4);
  c.efer = cpu_->msr(msr::IA32_EFER);
  c.rflags_ac = cpu_->rflags() & rflags::AC;
  return c;
}

bool NativePaging::is_mmio(uint64_t gpa) const {
  for (auto& [b, e] : mmio_)
    if (gpa >= b && gpa < e) return true;
  return false;
}

FillResult NativePaging::fill(const FillRequest& req) {
  FillResult r;
  WalkResult w = walk_page_tables(ram_, control(), req.page_va, req.access, req.cpl, true);
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
  const bool ram = ram_.contains(page, kPageSize);
  if (ram) {
    r.cpu_pa = page;
    return r;
  }
  const bool device = is_mmio(page);
  if (!device && unbacked_) unbacked_({page, req.page_va, req.access});
  if (req.access == Access::Fetch) {
    r.cpu_pa = kOpenBusCodePage;
    r.write = false;
  } else {
    r.cpu_pa = device ? page : kOpenBusPage;
    r.exec = false;  // a later fetch comes back here for the code page
  }
  return r;
}

std::optional<uint64_t> NativePaging::probe(uint64_t va) {
  PagingControl c = control();
  c.rflags_ac = true;  // a probe is not a guest access: SMAP does not apply
  WalkResult w = walk_page_tables(ram_, c, va, Access::Read, 0, false);
  if (!w.ok) return std::nullopt;
  return w.gpa;
}

}  // namespace hvsim
