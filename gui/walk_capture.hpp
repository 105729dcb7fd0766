#pragma once
// Captures the translation of one address as the VM's MMU (native, EPT or shadow) would do
// it now, without side effects, laid out for the translation view.
#include "core/mem/machine_memory.hpp"
#include "core/vm/vm.hpp"
#include "gui/walk_layout.hpp"

namespace hvsim::gui {

WalkLayout capture_walk(Vm& vm, const MachineMemory& machine, const WalkQuery& query);

}  // namespace hvsim::gui
