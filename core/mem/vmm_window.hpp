#pragma once
// A part of every guest address space the VMM keeps for itself, and a rule for kernel-mode
// instruction fetches: what the bt engine needs from the MMU (docs/binary-translation.md).
// It sits in front of the guest's MMU (native, EPT or shadow paging) and passes every other
// fill through. Inactive, it only forwards.
//
// - Linear [va_begin, va_begin + size) maps to CPU-physical [cpu_pa, ...): the translation cache,
//   kernel mode only; its first `writable_bytes` (the VMM data area that in-cache code
//   writes) read-write, the next `read_only_bytes` (tables in-cache code reads) read-only,
//   the rest execute-only. Any other access to the window is the
//   guest's: it faults as the guest's own tables say, or as a protection fault where the
//   guest mapped something the VMM took from it.
// - With `guard_kernel_fetch`, no CPL-0 TLB entry outside the window is executable: the
//   first kernel-mode fetch of guest code stops the CPU (a MemoryFault for Access::Fetch at
//   CPL 0 outside the window), so the engine can send it to the translation instead.
#include <cstdint>

#include "core/cpu/cpu_memory.hpp"

namespace hvsim {

struct VmmWindow {
  uint64_t va_begin = 0, size = 0;  // the window may end at 2^64
  uint64_t cpu_pa = 0;
  uint64_t writable_bytes = 0;
  uint64_t read_only_bytes = 0;
  bool guard_kernel_fetch = false;
  bool contains(uint64_t va) const { return va - va_begin < size; }
};

class VmmWindowTranslator : public AddressTranslator {
 public:
  explicit VmmWindowTranslator(AddressTranslator& inner) : inner_(inner) {}
  void set(const VmmWindow& w) {
    window_ = w;
    active_ = true;
  }
  bool active() const { return active_; }
  const VmmWindow& window() const { return window_; }
  // Fetches the guard refused (the engine's kernel entries).
  uint64_t guarded_fetches() const { return guarded_; }
  FillResult fill(const FillRequest& request) override;
  std::optional<uint64_t> probe(uint64_t va) override;

 private:
  AddressTranslator& inner_;
  VmmWindow window_;
  bool active_ = false;
  uint64_t guarded_ = 0;
};

}  // namespace hvsim
