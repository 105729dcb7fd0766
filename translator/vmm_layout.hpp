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

// The first 64 KiB of the window: virtual CPU state used by code in the cache, which reads
// and writes it.
constexpr uint64_t kVmmDataSize = 64ull << 10;
// Then the indirect-branch lookup tables (below), which code in the cache only reads: the
// VMM fills them, and a guest store there faults.
constexpr uint64_t kLookupEntries = 1ull << 16;  // per table, direct-mapped
constexpr uint64_t kLookupTableBytes = 2 * 8 * kLookupEntries;
enum class LookupTable : uint8_t { Hash, ReturnCache };
constexpr uint64_t kLookupTablesSize = 2 * kLookupTableBytes;
// Then a page of constant tables for the in-cache MOV to CR8 (flag-free arithmetic): byte b
// of kLow4 is b & 0xf; byte 16 * tpr + waiting of kUnmasks is 1 when a write of `tpr`
// unmasks an interrupt of class `waiting`.
constexpr uint64_t kConstantTables = kTcWindowBase + kVmmDataSize + kLookupTablesSize;
constexpr uint64_t kLow4 = kConstantTables;
constexpr uint64_t kUnmasks = kConstantTables + 256;
constexpr uint64_t kConstantTablesSize = 4096;
constexpr uint64_t kReadOnlySize = kLookupTablesSize + kConstantTablesSize;
// Fragments follow the tables.
constexpr uint64_t kTcFragmentsBase = kConstantTables + kConstantTablesSize;

// Offsets into the data area. One place for them: the emitter writes code that addresses
// them, the engine reads and writes them between callouts.
namespace vmm_data {
// In-cache CLI, one byte: translated CLI writes 0 here instead of clearing RFLAGS.IF; the
// engine applies it to the virtual CPU at the next stop and sets the byte back to 1. Nothing
// in the cache reads IF (PUSHF, POPF and STI are callouts), and the VMM injects interrupts
// only at stops, so the virtual IF is exact wherever it is observed.
constexpr uint64_t kVirtualIf = 0x0;
// The guest's CR8 (task-priority class, one byte): its only home while bt runs
// (UnicornCpu::set_tpr_home), read and written by in-cache MOV from and to CR8.
constexpr uint64_t kVirtualTpr = 0x1;
// One byte the VMM updates before translated code runs: the priority class of the highest
// interrupt waiting only on the TPR (0: none). An in-cache MOV to CR8 below it calls out, so
// that the VMM delivers the interrupt right after the write.
constexpr uint64_t kWaitingClass = 0x2;
// 8 bytes: a trampoline that runs an instruction whose RIP-relative operand is out of rel32
// reach of the cache saves the register it addresses the operand through here, and restores
// it after (the engine restores it too when the instruction faults).
constexpr uint64_t kScratchSave = 0x8;
// In-cache indirect-branch lookup (emit.cpp): the two registers it works in are saved here
// and restored before the guest goes on (the engine restores them too at a stop inside the
// lookup); the fragment found is jumped to through kLookupTarget; hits are counted here
// (the VMM counts the misses: each is a callout).
constexpr uint64_t kLookupSaveRax = 0x10;
constexpr uint64_t kLookupSaveRcx = 0x18;
constexpr uint64_t kLookupTarget = 0x20;
constexpr uint64_t kHashHits = 0x28;
constexpr uint64_t kReturnCacheHits = 0x30;
// Sensitive instructions emulated inside the cache (CLI, port I/O nobody answers), counted
// by the code that emulates them.
constexpr uint64_t kInCacheEmulations = 0x38;
}  // namespace vmm_data

// The lookup tables: for indirect jmp and call targets (Hash) and for return addresses
// (ReturnCache, filled when a call is translated, since its return address is known then).
// Each is two arrays of kLookupEntries 8-byte words: guest RIPs (keys) then TC addresses,
// indexed by the guest RIP's low 16 bits, which the lookup gets with one flag-free MOVZX.
// An empty key never matches its own index (index ^ 1), so no guest RIP hits an empty slot.
constexpr uint64_t lookup_index(uint64_t guest_rip) { return guest_rip & (kLookupEntries - 1); }
constexpr uint64_t lookup_empty_key(uint64_t index) { return index ^ 1; }
constexpr uint64_t lookup_keys(LookupTable t) {
  return kTcWindowBase + kVmmDataSize + (t == LookupTable::Hash ? 0 : kLookupTableBytes);
}
constexpr uint64_t lookup_tcs(LookupTable t) { return lookup_keys(t) + 8 * kLookupEntries; }

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
