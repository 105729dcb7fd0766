#pragma once
// An execution engine: what happens when the vCPU stops before a trapped instruction, and
// what it makes of the events the VM sees. `native` is the machine without a hypervisor
// (NativeHardware); `vtx` (hwassist/) turns the same stops into VM exits per its VMCS, then
// lets its exit handlers emulate. The VM loop calls these hooks; it never asks which engine
// it runs.
#include <cstdint>
#include <string>

#include "core/cpu/stop_reason.hpp"
#include "core/cpu/trap_points.hpp"

namespace hvsim {

class Vm;
struct RunOutcome;

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;
  // The instruction kinds the vCPU must stop before.
  virtual TrapSet trap_policy() const = 0;
  // The vCPU stopped before a trapped instruction. false ends the run (outcome filled in).
  virtual bool trap(Vm& vm, const StopReason& stop, RunOutcome& out) = 0;
  // An exception is being raised in the guest (by the CPU or by an emulation).
  virtual void exception_raised(Vm&, uint8_t /*vector*/, uint32_t /*error_code*/) {}
  // An external interrupt became pending; later it is delivered (after `waited` VM-loop
  // turns in which the guest could not take it).
  virtual void interrupt_raised(Vm&, uint8_t /*vector*/) {}
  virtual void interrupt_delivered(Vm&, uint8_t /*vector*/) {}
  // The guest accessed a device's MMIO window.
  virtual void mmio_accessed(Vm&, uint64_t /*gpa*/, bool /*write*/) {}
  // A device's MMIO window was written (after the device saw it): which interrupts wait may
  // have changed while the CPU runs on.
  virtual void device_written(Vm&) {}
  // The guest triple-faulted.
  virtual void triple_fault(Vm&) {}
  // Every stop of the vCPU, before the VM handles it; true when the engine consumed it (the
  // bt engine's kernel entries), false to let the VM go on (it may have changed the CPU's
  // state first: the bt engine maps a translated RIP back to the guest's).
  virtual bool stopped(Vm&, const StopReason&) { return false; }
  // The vCPU is about to run again. A non-empty answer: the engine cannot go on (the run
  // ends as a host error with that text), rather than run something it cannot stand behind.
  virtual std::string before_run(Vm&) { return {}; }
};

// The machine without a hypervisor.
class NativeEngine : public Engine {
 public:
  const char* name() const override { return "native"; }
  TrapSet trap_policy() const override;
  bool trap(Vm& vm, const StopReason& stop, RunOutcome& out) override;
};

}  // namespace hvsim
