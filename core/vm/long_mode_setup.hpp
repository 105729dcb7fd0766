#pragma once
// The machine state hvsim's loaders start a guest in (docs/flat-guests.md, docs/boot-protocol.md):
// identity map of 4 GiB with 2 MiB pages, optionally aliased at -2 GiB for higher-half
// kernels, the fixed GDT and TSS, CPL 0 in 64-bit mode with interrupts off.
#include <cstdint>

#include "core/util/result.hpp"
#include "core/vm/vm.hpp"

namespace hvsim {

constexpr uint64_t kSetupPml4 = 0x1000, kSetupPdpt = 0x2000, kSetupPd0 = 0x3000;
constexpr uint64_t kSetupPdptHigh = 0x8000;  // PML4[511]: -2 GiB -> physical 0 (higher half)
constexpr uint64_t kSetupGdt = 0x7000, kSetupTss = 0x7800;
constexpr uint16_t kSetupTssSelector = 0x30;
constexpr uint64_t kSetupStackTop = 0x80000, kSetupIst1Top = 0x70000;

struct LongModeEntry {
  uint64_t rip = 0;
  uint64_t rsp = kSetupStackTop;
  uint64_t rdi = 0;                // first argument (the boot-info address for ELF kernels)
  bool higher_half_alias = false;  // map physical [0, 2 GiB) at 0xffffffff80000000 too
};

// Writes the tables into RAM below 1 MiB and sets the CPU state. RAM must be at least 1 MiB.
Result<void> enter_long_mode(Vm& vm, const LongModeEntry& entry);

}  // namespace hvsim
