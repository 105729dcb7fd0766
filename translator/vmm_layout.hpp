#pragma once
// Where translated code lives in the guest's virtual address space, and the layout of the
// VMM data area that in-cache emulation reads and writes (docs/binary-translation.md).
#include <cstdint>

namespace hvsim::bt {

// The top 16 MiB of the address space, reserved by the VMM in every guest address space.
// The guest kernel is linked at 0xffffffff80000000, so translated code reaches it (and,
// through 64-bit wrap-around, the bottom of the address space, where flat guests live)
// with rel32 displacements.
constexpr uint64_t kTcWindowBase = 0xffffffffff000000ull;
constexpr uint64_t kTcWindowSize = 16ull << 20;

// The first 64 KiB of the window: virtual CPU state used by code in the cache.
constexpr uint64_t kVmmDataSize = 64ull << 10;
// Fragments follow the data area.
constexpr uint64_t kTcFragmentsBase = kTcWindowBase + kVmmDataSize;

// Offsets into the data area. One place for them: the emitter writes code that addresses
// them, the engine reads and writes them between callouts.
namespace vmm_data {
// Virtual RFLAGS.IF of the guest kernel, one byte: 1 = interrupts enabled. The real IF stays
// set while translated code runs so that the VMM keeps its own interrupts; in-cache CLI
// clears this byte, the STI and POPF callouts set it.
constexpr uint64_t kVirtualIf = 0x0;
}  // namespace vmm_data

constexpr uint64_t kVirtualIfAddress = kTcWindowBase + vmm_data::kVirtualIf;

// True when [address, address + size) lies inside the fragment area of the window.
constexpr bool in_fragment_area(uint64_t address, uint64_t size) {
  if (address < kTcFragmentsBase) return false;
  const uint64_t offset = address - kTcWindowBase;  // < kTcWindowSize: the window ends at 2^64
  return size <= kTcWindowSize - offset;
}

}  // namespace hvsim::bt
