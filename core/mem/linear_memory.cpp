#include "core/mem/linear_memory.hpp"

#include <cstring>

namespace hvsim {

std::optional<GuestFault> LinearMemory::translate(uint64_t va, size_t size, Access access,
                                                  unsigned cpl, uint64_t gpas[2], size_t& first_len) {
  if (size == 0 || size > kPageSize) return GuestFault{vec::GP, 0, 0};
  const PagingControl& ctl = control();
  first_len = std::min<size_t>(size, kPageSize - (va & 0xfff));
  uint64_t addrs[2] = {va, va + first_len};
  int pages = first_len < size ? 2 : 1;
  for (int i = 0; i < pages; ++i) {
    WalkResult w = walk_page_tables(ram_, ctl, addrs[i], access, cpl, true);
    if (w.non_canonical) return GuestFault{vec::GP, 0, 0};
    if (!w.ok) return GuestFault{vec::PF, w.pf_error_code, addrs[i]};
    size_t len = i == 0 ? first_len : size - first_len;
    if (!ram_.contains(w.gpa, len)) return GuestFault{vec::GP, 0, 0};  // not RAM: refuse
    gpas[i] = w.gpa;
  }
  return std::nullopt;
}

std::optional<GuestFault> LinearMemory::read(uint64_t va, void* out, size_t size, unsigned cpl) {
  return copy_out(va, out, size, Access::Read, cpl);
}

std::optional<GuestFault> LinearMemory::fetch(uint64_t va, void* out, size_t size, unsigned cpl) {
  return copy_out(va, out, size, Access::Fetch, cpl);
}

std::optional<GuestFault> LinearMemory::copy_out(uint64_t va, void* out, size_t size, Access access, unsigned cpl) {
  uint64_t gpas[2] = {};
  size_t first = 0;
  if (auto f = translate(va, size, access, cpl, gpas, first)) return f;
  auto* dst = static_cast<uint8_t*>(out);
  ram_.read(gpas[0], dst, first);
  if (first < size) ram_.read(gpas[1], dst + first, size - first);
  return std::nullopt;
}

std::optional<GuestFault> LinearMemory::write(uint64_t va, const void* in, size_t size, unsigned cpl) {
  uint64_t gpas[2] = {};
  size_t first = 0;
  if (auto f = translate(va, size, Access::Write, cpl, gpas, first)) return f;
  auto* src = static_cast<const uint8_t*>(in);
  if (on_write_) {
    on_write_(gpas[0], first);
    if (first < size) on_write_(gpas[1], size - first);
  }
  ram_.write(gpas[0], src, first);
  if (first < size) ram_.write(gpas[1], src + first, size - first);
  return std::nullopt;
}

}  // namespace hvsim
