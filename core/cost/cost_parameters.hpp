#pragma once
// The parameters of a cost profile (scenarios/profiles/*.toml, docs/cost-model.md): each is
// the cost of one semantic event on one machine, in cycles unless its unit says otherwise.
// A profile gives every one of them a value and a source; none is fitted to a benchmark
// result (the nanobenchmark table of Adams & Agesen is the check, not an input).
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hvsim {

#define HVSIM_COST_PARAMETERS(X)                                                                        \
  /* the hardware running guest code, under every engine */                                            \
  X(instruction, "cycles", "one guest instruction of ordinary code (the baseline CPI)")                 \
  X(syscall_sysret, "cycles", "a SYSCALL + SYSRET round trip, the instructions alone")                  \
  X(exception_delivery, "cycles", "delivering an exception through the IDT, and its IRETQ")            \
  X(interrupt_delivery, "cycles", "delivering an external interrupt through the IDT, and its IRETQ")   \
  X(walk_reference, "cycles", "one paging-structure reference of a hardware page walk (TLB fill)")     \
  X(port_io_isa, "cycles", "one port I/O access that reaches an ISA device (port 0x80) on real hardware") \
  X(cr8_write, "cycles", "MOV to CR8 (the task-priority register) on the bare processor")             \
  X(tpr_shadow_write, "cycles", "MOV to CR8 in VMX non-root operation with a TPR shadow (no exit)")    \
  /* VT-x transitions */                                                                                \
  X(vm_exit, "cycles", "the hardware part of a VM exit (guest to VMM)")                                \
  X(vm_entry, "cycles", "the hardware part of a VM entry (VMRESUME, VMM to guest)")                    \
  X(vmcs_read, "cycles", "one VMREAD")                                                                 \
  X(vmcs_write, "cycles", "one VMWRITE")                                                               \
  X(vmcs_reads_per_exit, "count", "VMREADs an exit handler does")                                      \
  X(vmcs_writes_per_exit, "count", "VMWRITEs an exit handler does")                                    \
  /* the VMM's software, shared by the virtual engines */                                              \
  X(emulate_instruction, "cycles", "the VMM decodes and emulates one trapped instruction")            \
  X(device_emulation, "cycles", "the VMM's device model handles one port access")                      \
  X(shadow_fill, "cycles", "a hidden page fault: the VMM walks the guest tables and fills the shadow") \
  X(trace_emulation, "cycles", "the VMM emulates a guest write to a traced page-table page")          \
  X(reflect_fault, "cycles", "the VMM finds a page fault is the guest's own and reflects it")         \
  X(inject_event, "cycles", "the VMM prepares an event for injection at VM entry")                     \
  X(shadow_root_switch, "cycles", "the VMM switches shadow roots on a guest CR3 write")                \
  X(shadow_root_build, "cycles", "the VMM builds a new, empty shadow root")                           \
  X(mmio_emulation, "cycles", "the VMM decodes and emulates an access to a device window")            \
  X(interrupt_dispatch, "cycles", "the VMM handles a host interrupt that caused an exit")             \
  /* binary translation (the bt engine, issue 6) */                                                    \
  X(translate_instruction, "cycles", "the translator's work per guest instruction translated")        \
  X(callout, "cycles", "leaving the translation cache for the VMM and coming back, without the work") \
  X(in_cache_emulation, "cycles", "a sensitive instruction emulated inside the translation cache")    \
  X(indirect_lookup, "cycles", "an indirect branch or return resolved by the translation cache's hash")

enum class CostParameter : size_t {
#define HVSIM_COST_ENUM(name, unit, what) name,
  HVSIM_COST_PARAMETERS(HVSIM_COST_ENUM)
#undef HVSIM_COST_ENUM
      Count
};
constexpr size_t kCostParameterCount = static_cast<size_t>(CostParameter::Count);

const char* cost_parameter_name(CostParameter p);
const char* cost_parameter_unit(CostParameter p);
const char* cost_parameter_meaning(CostParameter p);
std::optional<CostParameter> cost_parameter_from_name(std::string_view name);

struct CostProfile {
  std::string name;
  std::string description;
  std::string machine;  // the processor the numbers are for
  double clock_ghz = 0;
  std::array<double, kCostParameterCount> value{};
  std::array<std::string, kCostParameterCount> source{};
  double operator[](CostParameter p) const { return value[static_cast<size_t>(p)]; }
};

}  // namespace hvsim
