#pragma once
#include <string>

#include "core/cpu/unicorn_cpu.hpp"

namespace hvsim {
// The final registers as a JSON object of hex strings (docs/flat-guests.md).
std::string dump_state_json(UnicornCpu& cpu);
}  // namespace hvsim
