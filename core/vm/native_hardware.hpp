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
  // For an instruction the CPU executes itself but checks too little (Unicorn accepts
  // reserved bits in MOV to CR0/CR3/CR4): raises the fault a processor raises and returns
  // true; false when the CPU may execute it. Engines that run such an instruction elsewhere
  // (the bt engine's trampolines) ask first, as execute_instruction does. For INVLPG, which
  // the CPU does too little of (4 KiB of a large page), it prepares the CPU and returns false.
  static bool fault_before_cpu(Vm& vm, TrapKind kind, const Instruction& insn);
  // Whether MOV to CR`cr` with `value` faults (#GP(0)) in the CPU's current mode.
  static bool cr_write_faults(Vm& vm, unsigned cr, uint64_t value);
};

}  // namespace hvsim
