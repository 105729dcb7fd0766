#pragma once
// `hvsim run --flat FILE.bin`: the fixed machine state documented in docs/flat-guests.md.
// Stable on purpose: engine differential tests depend on it.
#include <cstdint>
#include <vector>

#include "core/util/result.hpp"
#include "core/vm/vm.hpp"

namespace hvsim {

constexpr uint64_t kFlatLoadAddress = 0x100000;
constexpr uint64_t kFlatStackTop = 0x80000;
constexpr uint64_t kFlatIst1Top = 0x70000;
constexpr uint64_t kFlatPml4 = 0x1000, kFlatPdpt = 0x2000, kFlatPd0 = 0x3000;
constexpr uint64_t kFlatGdt = 0x7000, kFlatTss = 0x7800;
constexpr uint16_t kFlatTssSelector = 0x30;

Result<void> load_flat_guest(Vm& vm, const std::vector<uint8_t>& image);

}  // namespace hvsim
