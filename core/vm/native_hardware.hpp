#pragma once
// What a real CPU does at the trap points the native engine asks for: the instructions
// Unicorn gets wrong or leaves non-deterministic (RDTSC, CR8/TPR, I/O privilege, MSRs,
// SYSCALL, INT n, HLT, RDRAND). Engines that virtualize decide first whether a trap point is
// a VM exit or a callout; what is left is executed here.
#include <optional>

#include "core/cpu/trap_points.hpp"
#include "core/isa/decoder.hpp"
#include "core/vm/engine.hpp"
#include "core/vm/vm.hpp"

namespace hvsim {

struct NativeHardware {
  static TrapSet trap_policy();
  // false when the run must end (outcome filled in).
  static bool execute(Vm& vm, const StopReason& stop, RunOutcome& out);
  // The same for an instruction the caller decoded (at RIP): the bt engine's callouts.
  static bool execute_instruction(Vm& vm, TrapKind kind, const Instruction& insn, RunOutcome& out);
  // Whether execute_instruction emulates this kind (the others the CPU executes itself).
  static bool emulates(TrapKind kind);
};

}  // namespace hvsim
