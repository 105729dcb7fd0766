#pragma once
// The semantic events a finished (or paused) guest run counted, by name, for the cost model
// (core/cost/cost_model.hpp, docs/cost-model.md).
#include "core/cost/cost_model.hpp"

namespace hvsim {

class Vm;

EventCounts collect_event_counts(Vm& vm);
// The technique of the engine the VM runs under.
Technique technique_of(Vm& vm);

}  // namespace hvsim
