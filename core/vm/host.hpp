#pragma once
// A host running several guests at once, as a hypervisor cycles between guest operating
// systems: each guest has its own vCPU, RAM (from the shared machine pool), devices and
// virtual clock, and runs in turn for a slice of its own virtual time. The order is fixed, so
// a run is deterministic.
#include <cstdint>
#include <vector>

#include "core/vm/vm.hpp"

namespace hvsim {

class Host {
 public:
  explicit Host(uint64_t slice_ns) : slice_ns_(slice_ns ? slice_ns : 1) {}
  void add(Vm& vm) { guests_.push_back(&vm); }
  // Runs every guest, a slice at a time, until each has ended; their outcomes in order.
  std::vector<RunOutcome> run();
  uint64_t slices_run() const { return slices_; }

 private:
  uint64_t slice_ns_;
  std::vector<Vm*> guests_;
  uint64_t slices_ = 0;
};

}  // namespace hvsim
