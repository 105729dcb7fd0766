#include "core/cost/cost_model.hpp"

#include <fmt/format.h>

namespace hvsim {

double count_of(const EventCounts& counts, const std::string& name) {
  auto it = counts.find(name);
  return it == counts.end() ? 0 : it->second;
}

namespace {

using P = CostParameter;

// Instruction kinds whose VM exits are device accesses: their handler is the device model,
// priced separately from instruction emulation.
constexpr const char* kIoKinds[] = {"In", "Out", "Ins", "Outs"};

bool is_io_kind(const std::string& kind) {
  for (const char* k : kIoKinds) {
    if (kind == k) return true;
  }
  return false;
}

class Terms {
 public:
  Terms(const EventCounts& c, const CostProfile& p) : c_(c), p_(p) {}
  double n(const std::string& name) const { return count_of(c_, name); }
  double v(P parameter) const { return p_[parameter]; }
  // count x parameter
  void add(const std::string& component, double count, P parameter) {
    if (count == 0) return;
    terms_.push_back({component, fmt::format("{:g} x {} ({:g})", count, cost_parameter_name(parameter), v(parameter)),
                      count * v(parameter)});
  }
  void add_raw(const std::string& component, std::string formula, double cycles) {
    terms_.push_back({component, std::move(formula), cycles});
  }
  std::vector<CostTerm> take() { return std::move(terms_); }

 private:
  const EventCounts& c_;
  const CostProfile& p_;
  std::vector<CostTerm> terms_;
};

}  // namespace

std::vector<CostTerm> cost_terms(const EventCounts& counts, Technique technique, const CostProfile& profile) {
  Terms t(counts, profile);
  const bool virtualized = technique != Technique::Native;

  // What the processor does running the guest, under any engine.
  t.add("guest instructions", t.n("instructions"), P::instruction);
  t.add("SYSCALL/SYSRET", t.n("syscalls"), P::syscall_sysret);
  t.add("exception delivery", t.n("exceptions"), P::exception_delivery);
  t.add("interrupt delivery", t.n("interrupts"), P::interrupt_delivery);
  t.add("page walks (TLB fills)", t.n("mem.walk_references"), P::walk_reference);
  // The instructions that stopped but did not leave the guest ran on the processor.
  const double cr8_in_guest = t.n("trap.MovToCr8") - t.n("exited.MovToCr8");
  t.add("MOV to CR8", cr8_in_guest, technique == Technique::HardwareAssist ? P::tpr_shadow_write : P::cr8_write);

  // Port I/O: an ISA bus cycle on bare hardware; the VMM's device model otherwise.
  t.add(virtualized ? "device emulation (port I/O)" : "port I/O to ISA devices", t.n("port_io"),
        virtualized ? P::device_emulation : P::port_io_isa);
  if (!virtualized) return t.take();

  // Hardware assist: every exit is a round trip through the VMM; its handler reads and
  // writes the VMCS, then does the work priced below.
  const double exits = t.n("vm_exits");
  if (exits > 0 && technique == Technique::HardwareAssist) {
    const double per_exit = t.v(P::vm_exit) + t.v(P::vm_entry) + t.v(P::vmcs_reads_per_exit) * t.v(P::vmcs_read) +
                            t.v(P::vmcs_writes_per_exit) * t.v(P::vmcs_write);
    t.add_raw("VM exits and entries",
              fmt::format("{:g} exits x (vm_exit {:g} + vm_entry {:g} + {:g} x vmcs_read {:g} + {:g} x vmcs_write {:g})",
                          exits, t.v(P::vm_exit), t.v(P::vm_entry), t.v(P::vmcs_reads_per_exit), t.v(P::vmcs_read),
                          t.v(P::vmcs_writes_per_exit), t.v(P::vmcs_write)),
              exits * per_exit);
  }
  double emulated = 0;
  for (const auto& [name, value] : counts) {
    if (name.rfind("exited.", 0) == 0 && !is_io_kind(name.substr(7))) emulated += value;
  }
  t.add("instruction emulation", emulated, P::emulate_instruction);
  t.add("external interrupts in the VMM", t.n("exit.ExternalInterrupt"), P::interrupt_dispatch);
  t.add("event injection", t.n("injections"), P::inject_event);

  // Memory virtualization in software (shadow paging) and device windows.
  t.add("hidden page faults (shadow fills)", t.n("mem.hidden_faults"), P::shadow_fill);
  t.add("traced page-table writes", t.n("mem.pt_write_traces"), P::trace_emulation);
  t.add("true page faults reflected", t.n("mem.reflected_faults"), P::reflect_fault);
  t.add("shadow root switches", t.n("mem.shadow_root_switches"), P::shadow_root_switch);
  t.add("shadow root builds", t.n("mem.shadow_root_builds"), P::shadow_root_build);
  t.add("device-window accesses (MMIO)", t.n("mmio"), P::mmio_emulation);

  if (technique != Technique::BinaryTranslation) return t.take();
  // Binary translation: the VMM owns the processor's IDT and SYSCALL entry, so every event
  // goes through it before the translated guest handler runs, and every page fault the VMM
  // resolves (hidden faults, traced writes) arrives as a real exception.
  t.add("translation", t.n("bt.instructions_translated"), P::translate_instruction);
  t.add("callouts", t.n("bt.callouts"), P::callout);
  t.add("instruction emulation", t.n("bt.sensitive_emulated"), P::emulate_instruction);
  t.add("in-cache emulation", t.n("bt.in_cache_emulations"), P::in_cache_emulation);
  t.add("indirect-branch lookups", t.n("bt.indirect_lookups"), P::indirect_lookup);
  // Adaptive BT: an adapted store's callout (counted above) emulates the page-table write the
  // fault used to bring, without the fault; one that hit an ordinary page is a plain emulation.
  t.add("adapted page-table stores", t.n("bt.adapted_writes"), P::trace_emulation);
  t.add("adapted stores to other pages", t.n("bt.adapted_misses"), P::emulate_instruction);
  t.add("events forwarded by the VMM", t.n("exceptions") + t.n("interrupts") + t.n("syscalls"), P::callout);
  t.add("VMM page faults", t.n("mem.hidden_faults") + t.n("mem.pt_write_traces"), P::exception_delivery);
  return t.take();
}

double total_cycles(const std::vector<CostTerm>& terms) {
  double sum = 0;
  for (const auto& term : terms) sum += term.cycles;
  return sum;
}

}  // namespace hvsim
