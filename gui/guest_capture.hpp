#pragma once
// Builds a guest's part of a snapshot from its VM, on the simulation thread.
#include <string>

#include "core/mem/machine_memory.hpp"
#include "core/vm/vm.hpp"
#include "gui/snapshot.hpp"

namespace hvsim::gui {

struct CaptureRequest {
  std::optional<WalkQuery> walk;  // default: the instruction at RIP, fetched at the current CPL
  std::optional<uint64_t> translation_at;  // bt: the guest code whose fragment to show (default: RIP)
  unsigned code_before = 12, code_after = 16;
};

RegisterFile capture_registers(UnicornCpu& cpu);

GuestSnapshot capture_guest(Vm& vm, const MachineMemory& machine, const CaptureRequest& request);

}  // namespace hvsim::gui
