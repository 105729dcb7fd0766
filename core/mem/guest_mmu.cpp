#include "core/mem/guest_mmu.hpp"

namespace hvsim {

PagingControl GuestMmu::control() const {
  PagingControl c;
  c.cr0 = cpu_->cr(0);
  c.cr3 = cpu_->cr(3);
  c.cr4 = cpu_->cr(4);
  c.efer = cpu_->msr(msr::IA32_EFER);
  // RFLAGS.AC only matters to SMAP; reading RFLAGS costs a flags computation in Unicorn.
  c.rflags_ac = (c.cr4 & cr4::SMAP) && (cpu_->rflags() & rflags::AC);
  return c;
}

bool GuestMmu::is_mmio(uint64_t gpa) const {
  for (auto& [b, e] : mmio_)
    if (gpa >= b && gpa < e) return true;
  return false;
}

std::optional<uint64_t> GuestMmu::probe_guest_tables(uint64_t va) {
  PagingControl c = control();
  c.rflags_ac = true;  // a probe is not a guest access: SMAP does not apply
  WalkResult w = walk_page_tables(ram_, c, va, Access::Read, 0, false);
  if (!w.ok) return std::nullopt;
  auto mpa = p2m_.machine_address(w.gpa);
  return mpa ? mpa : std::optional<uint64_t>(w.gpa);  // not RAM: the caller finds no code there
}

void GuestMmu::report_unbacked(const UnbackedAccess& a) {
  ++counters_.isolation_events;
  if (unbacked_) unbacked_(a);
}

FillResult GuestMmu::outside_ram(uint64_t page_gpa, const FillRequest& req, FillResult r) {
  const bool device = is_mmio(page_gpa);
  if (!device) report_unbacked({page_gpa, req.page_va, req.access, false});
  if (req.access == Access::Fetch) {
    r.cpu_pa = kOpenBusCodePage;
    r.write = false;
  } else {
    r.cpu_pa = device ? page_gpa : kOpenBusPage;  // device windows sit at their GPA
    r.exec = false;  // a later fetch comes back here for the code page
  }
  return r;
}

}  // namespace hvsim
