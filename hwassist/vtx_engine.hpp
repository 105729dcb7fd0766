#pragma once
// The vtx engine: a simulated Intel VT-x. The guest runs unmodified; a sensitive operation
// leaves it (a VM exit) exactly when a processor with this VMCS would exit, with the SDM's
// exit reason, qualification, instruction length and interruption information written to the
// VMCS and the event log. The VMM's handlers (KVM is the model) then emulate the instruction,
// reflect or inject the event, and resume (a VM entry).
//
// Exits at instructions come from trap points (precise, before the instruction); exits inside
// the memory-virtualization layer (hidden page faults and page-table traces under shadow
// paging, EPT violations for device windows) are counted where the MMU or the device handles
// them. Code that exits nowhere runs at full speed.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/util/result.hpp"
#include "core/vm/engine.hpp"
#include "hwassist/exit_reasons.hpp"
#include "hwassist/presets.hpp"
#include "hwassist/vmcs.hpp"

namespace hvsim {

struct Instruction;

namespace vmx {

struct ExitCounts {
  std::array<uint64_t, kExitReasonSlots> by_reason{};
  uint64_t total = 0;
  uint64_t entries = 0;
  uint64_t injections = 0;  // events the VMM injected on entry
  // Trap-point stops that became a VM exit, by instruction kind (the rest ran as the
  // hardware would run them in VMX non-root operation, without leaving the guest).
  std::array<uint64_t, kTrapKindCount> exited_at_trap{};
};

// IA32_VMX_MISC[4:0]: the VMX-preemption timer counts down once every 2^5 TSC ticks.
constexpr unsigned kPreemptionTimerRate = 5;

// The hypercall ABI (VMCALL, RAX = number; the result in RAX; docs/vtx.md).
enum class Hypercall : uint64_t { Version = 0, Exits = 1 };
constexpr uint64_t kHypercallVersion = 0x6876736d00000001ull;  // "hvsm", ABI 1
constexpr uint64_t kHypercallUnknown = static_cast<uint64_t>(-1000);  // KVM's -KVM_ENOSYS

class VtxEngine : public Engine {
 public:
  // Checks the VMCS as VM entry would; refuses it with the SDM's error and rule.
  static Result<std::unique_ptr<VtxEngine>> create(Preset preset);
  const char* name() const override { return "vtx"; }
  TrapSet trap_policy() const override;
  bool trap(Vm& vm, const StopReason& stop, RunOutcome& out) override;
  void exception_raised(Vm& vm, uint8_t vector, uint32_t error_code) override;
  void interrupt_raised(Vm& vm, uint8_t vector) override;
  void interrupt_delivered(Vm& vm, uint8_t vector) override;
  void mmio_accessed(Vm& vm, uint64_t gpa, bool write) override;
  void triple_fault(Vm& vm) override;

  // Checks guest state against the VMCS once the guest is loaded (VM entry); the EPT pointer
  // is taken from the VM's EPT tables.
  Result<void> enter(Vm& vm);
  const Vmcs& vmcs() const { return vmcs_; }
  const Preset& preset() const { return preset_; }
  // Exits so far, including those the MMU handled (hidden faults, traces, EPT violations).
  ExitCounts exits(Vm& vm) const;

 private:
  explicit VtxEngine(Preset p) : preset_(std::move(p)), vmcs_(preset_.vmcs) {}
  bool handle_trap(Vm& vm, const StopReason& stop, RunOutcome& out);
  void exit(Vm& vm, ExitReason reason, uint64_t qualification = 0, unsigned instruction_length = 0,
            uint32_t interruption_info = 0);
  bool io_exits(uint16_t port, unsigned size) const;
  bool cr_access(Vm& vm, const Instruction& insn, bool to_cr);
  bool hypercall(Vm& vm, const Instruction& insn);
  void arm_preemption_timer(Vm& vm);

  Preset preset_;
  Vmcs vmcs_;
  ExitCounts counts_;
  bool window_armed_ = false;  // an interrupt waits for the guest to become interruptible
};

}  // namespace vmx
}  // namespace hvsim
