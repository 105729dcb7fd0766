#pragma once
// `hvsim walk`: an address translation in words, every reference of every dimension, from the
// MMU's own records (the visualizer draws the same records).
#include <cstdint>
#include <string>

#include "core/cpu/cpu_types.hpp"
#include "core/vm/vm.hpp"

namespace hvsim {

// The translation of `va` for `access` at `cpl` in the guest's current address space, as the
// VM's MMU (native, EPT or shadow) would do it now, without side effects.
std::string walk_report(Vm& vm, uint64_t va, Access access, unsigned cpl);

}  // namespace hvsim
