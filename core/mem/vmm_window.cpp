#include "core/mem/vmm_window.hpp"

#include "core/mem/page_walker.hpp"

namespace hvsim {

FillResult VmmWindowTranslator::fill(const FillRequest& req) {
  if (!active_) [[likely]] return inner_.fill(req);
  if (window_.contains(req.page_va)) {
    const uint64_t offset = req.page_va - window_.va_begin;
    const bool writable = offset < window_.writable_bytes;
    const bool data = offset - window_.writable_bytes < window_.read_only_bytes || writable;
    // Translated code only fetches from the fragments, reads the data area and the tables and
    // writes only the data area; any other access is the guest's own, to an address the VMM
    // took from it.
    const bool vmm_access = req.cpl == 0 && (data ? req.access == Access::Read || (writable && req.access == Access::Write)
                                                  : req.access == Access::Fetch);
    if (!vmm_access) {
      FillResult guest = inner_.fill(req);
      if (!guest.ok) return guest;  // the guest's own tables fault there anyway
      FillResult r;
      r.pf_error_code = 1u | (req.access == Access::Write ? 2u : 0u) | (req.cpl == 3 ? 4u : 0u) |
                        (req.access == Access::Fetch ? 16u : 0u);
      return r;
    }
    FillResult r;
    r.ok = true;
    r.cpu_pa = window_.cpu_pa + offset;
    r.read = data;
    r.write = writable;
    r.exec = !data;
    return r;
  }
  if (window_.guard_kernel_fetch && req.cpl == 0 && req.access == Access::Fetch) {
    FillResult r;
    if (!is_canonical(req.page_va)) {
      r.non_canonical = true;  // #GP, as the guest's own tables would say: no entry to translate
      return r;
    }
    ++guarded_;
    r.pf_error_code = 16;  // never delivered: the engine takes this stop
    return r;
  }
  FillResult r = inner_.fill(req);
  if (window_.guard_kernel_fetch && req.cpl == 0) r.exec = false;
  return r;
}

std::optional<uint64_t> VmmWindowTranslator::probe(uint64_t va) {
  if (active_ && window_.contains(va)) return window_.cpu_pa + (va - window_.va_begin);
  return inner_.probe(va);
}

}  // namespace hvsim
