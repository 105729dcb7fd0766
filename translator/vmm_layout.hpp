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
// In-cache CLI, one byte: translated CLI writes 0 here instead of clearing RFLAGS.IF; the
// engine applies it to the virtual CPU at the next stop and sets the byte back to 1. Nothing
// in the cache reads IF (PUSHF, POPF and STI are callouts), and the VMM injects interrupts
// only at stops, so the virtual IF is exact wherever it is observed.
constexpr uint64_t kVirtualIf = 0x0;
// 8 bytes: a trampoline that runs an instruction whose RIP-relative operand is out of rel32
// reach of the cache saves the register it addresses the operand through here, and restores
// it after (the engine restores it too when the instruction faults).
constexpr uint64_t kScratchSave = 0x8;
}  // namespace vmm_data

constexpr uint64_t kVirtualIfAddress = kTcWindowBase + vmm_data::kVirtualIf;

// The processor's own descriptor-table registers while the VMM runs a guest by translation:
// VMware's VMM loaded its IDT, GDT and task register (in its part of the address space) and
// kept the guest's in the virtual CPU. Translated kernel code reads the guest's (SIDT is a
// callout); guest user code runs untranslated, so its SIDT, SGDT, SLDT and STR read these:
// the "Red Pill". hvsim's VMM keeps no tables at these addresses (Unicorn delivers events
// through the guest's IDT on the VMM's behalf); they are what user mode reads.
namespace host_registers {
constexpr uint64_t kIdtBase = kTcWindowBase + kTcWindowSize - 0x3000;  // 0xffffffffffffd000
constexpr uint16_t kIdtLimit = 0xfff;
constexpr uint64_t kGdtBase = kTcWindowBase + kTcWindowSize - 0x1000;  // 0xfffffffffffff000
constexpr uint16_t kGdtLimit = 0x7f;
constexpr uint16_t kLdtSelector = 0;      // no LDT
constexpr uint16_t kTrSelector = 0x40;
}  // namespace host_registers

// True when [address, address + size) lies inside the fragment area of the window.
constexpr bool in_fragment_area(uint64_t address, uint64_t size) {
  if (address < kTcFragmentsBase) return false;
  const uint64_t offset = address - kTcWindowBase;  // < kTcWindowSize: the window ends at 2^64
  return size <= kTcWindowSize - offset;
}

}  // namespace hvsim::bt
