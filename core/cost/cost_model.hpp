#pragma once
// Modeled cycles: the events an engine counted, priced by a cost profile (docs/cost-model.md).
// Accounting only: modeled cycles are reported beside guest time and never fed back into it.
#include <map>
#include <string>
#include <vector>

#include "core/cost/cost_parameters.hpp"

namespace hvsim {

// Semantic event counts by name ("instructions", "trap.MovToCr8", "exited.In", "mem.fills",
// "exit.CrAccess", "vm_exits", ...; docs/cost-model.md lists them). Doubles, because reports
// work with per-iteration differences of two runs.
using EventCounts = std::map<std::string, double>;
double count_of(const EventCounts& counts, const std::string& name);

// How the guest was run: decides which events cost what (a port access reaches an ISA device
// on bare hardware, the VMM's device model under a hypervisor).
enum class Technique { Native, HardwareAssist, BinaryTranslation };

// One term of the sum: what was charged, how many times, at what price.
struct CostTerm {
  std::string component;  // e.g. "VM exits and entries"
  std::string formula;    // e.g. "65652 exits x (1931 + 2409 + 10 x 178 + 2 x 171)"
  double cycles = 0;
};

std::vector<CostTerm> cost_terms(const EventCounts& counts, Technique technique, const CostProfile& profile);
double total_cycles(const std::vector<CostTerm>& terms);

}  // namespace hvsim
