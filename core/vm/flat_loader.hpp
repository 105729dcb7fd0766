#pragma once
// `hvsim run --flat FILE.bin`: the fixed machine state documented in docs/flat-guests.md.
// Stable on purpose: engine differential tests depend on it.
#include <cstdint>
#include <vector>

#include "core/util/result.hpp"
#include "core/vm/long_mode_setup.hpp"
#include "core/vm/vm.hpp"

namespace hvsim {

constexpr uint64_t kFlatLoadAddress = 0x100000;
constexpr uint64_t kFlatStackTop = kSetupStackTop;
constexpr uint64_t kFlatIst1Top = kSetupIst1Top;
constexpr uint64_t kFlatPml4 = kSetupPml4, kFlatPdpt = kSetupPdpt, kFlatPd0 = kSetupPd0;
constexpr uint64_t kFlatGdt = kSetupGdt, kFlatTss = kSetupTss;
constexpr uint16_t kFlatTssSelector = kSetupTssSelector;

Result<void> load_flat_guest(Vm& vm, const std::vector<uint8_t>& image);

}  // namespace hvsim
