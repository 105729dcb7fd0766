#pragma once
// What memory virtualization did, for the cost model (issue 7) and the visualizer: each
// counter is a semantic event whose cost a profile prices.
#include <cstdint>

namespace hvsim {

#define HVSIM_MEM_COUNTERS(X)                                                                 \
  X(fills, "TLB fills answered")                                                              \
  X(walk_references, "paging-structure entries read by fills (guest, EPT and shadow)")        \
  X(hidden_faults, "shadow misses resolved by the VMM without the guest seeing them")        \
  X(true_faults, "page faults reflected to the guest")                                        \
  X(pt_write_traces, "writes to traced guest page-table pages")                              \
  X(pt_unshadows, "traced pages released after repeated writes without use (write flooding)") \
  X(pt_untraced, "traced pages released when no shadow entry depended on them any more")     \
  X(shadow_root_switches, "CR3 changes that selected another shadow root")                    \
  X(shadow_root_builds, "shadow roots built (first use or after eviction)")                   \
  X(shadow_resets, "shadow state dropped entirely (VMM frames exhausted)")                    \
  X(shadow_invlpg, "INVLPGs applied to the shadow tables")                                    \
  X(ept_violations, "EPT violations")                                                         \
  X(ept_misconfigs, "EPT misconfigurations")                                                  \
  X(isolation_events, "accesses to guest-physical addresses with nothing behind them")

struct MemCounters {
#define HVSIM_MEM_COUNTER_FIELD(name, what) uint64_t name = 0;
  HVSIM_MEM_COUNTERS(HVSIM_MEM_COUNTER_FIELD)
#undef HVSIM_MEM_COUNTER_FIELD
};

}  // namespace hvsim
