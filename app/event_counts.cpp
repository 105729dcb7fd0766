#include "app/event_counts.hpp"

#include <string>

#include "core/vm/vm.hpp"
#include "hwassist/vtx_engine.hpp"
#include "translator/bt_engine.hpp"

namespace hvsim {

namespace {
constexpr const char* kTrapKeys[] = {
#define HVSIM_TRAP_KEY(name, text) #name,
    HVSIM_TRAP_INSTRUCTIONS(HVSIM_TRAP_KEY)
#undef HVSIM_TRAP_KEY
};

const char* exit_key(unsigned number) {
  switch (number) {
#define HVSIM_EXIT_KEY(name, n, text) \
  case n: return #name;
    HVSIM_EXIT_REASONS(HVSIM_EXIT_KEY)
#undef HVSIM_EXIT_KEY
  }
  return nullptr;
}
}  // namespace

EventCounts collect_event_counts(Vm& vm) {
  EventCounts c;
  const VmCounters& v = vm.counters();
  c["instructions"] = static_cast<double>(vm.cpu().instructions_retired());
  c["exceptions"] = static_cast<double>(v.exceptions_delivered);
  c["interrupts"] = static_cast<double>(v.interrupts_delivered);
  c["syscalls"] = static_cast<double>(v.syscalls);
  c["port_io"] = static_cast<double>(v.port_io);
  c["mmio"] = static_cast<double>(v.mmio_accesses);
  for (size_t k = 0; k < kTrapKindCount; ++k) {
    if (v.trap_stops[k]) c[std::string("trap.") + kTrapKeys[k]] = static_cast<double>(v.trap_stops[k]);
  }
  const MemCounters& m = vm.mmu().counters();
#define HVSIM_MEM_KEY(name, what) c["mem." #name] = static_cast<double>(m.name);
  HVSIM_MEM_COUNTERS(HVSIM_MEM_KEY)
#undef HVSIM_MEM_KEY
  // Under shadow paging every page fault reaches the VMM first; the guest's own are reflected.
  if (vm.config().paging == PagingMode::Shadow) c["mem.reflected_faults"] = static_cast<double>(m.true_faults);

  if (auto* vtx = dynamic_cast<vmx::VtxEngine*>(&vm.engine())) {
    const vmx::ExitCounts e = vtx->exits(vm);
    c["vm_exits"] = static_cast<double>(e.total);
    c["vm_entries"] = static_cast<double>(e.entries);
    c["injections"] = static_cast<double>(e.injections);
    for (unsigned r = 0; r < vmx::kExitReasonSlots; ++r) {
      if (e.by_reason[r] && exit_key(r)) c[std::string("exit.") + exit_key(r)] = static_cast<double>(e.by_reason[r]);
    }
    for (size_t k = 0; k < kTrapKindCount; ++k) {
      if (e.exited_at_trap[k]) c[std::string("exited.") + kTrapKeys[k]] = static_cast<double>(e.exited_at_trap[k]);
    }
  }
  if (auto* bt = dynamic_cast<bt::BtEngine*>(&vm.engine())) {
    const bt::BtCounters b = bt->counters();
    c["bt.instructions_translated"] = static_cast<double>(bt->translator_counters().guest_instructions);
    c["bt.fragments"] = static_cast<double>(bt->translator_counters().fragments);
    // Every indirect branch is a lookup (priced as VMware's in-cache hash lookup); a miss is
    // a callout as well.
    c["bt.callouts"] = static_cast<double>(b.callouts);
    c["bt.sensitive_emulated"] = static_cast<double>(b.sensitive_emulated);
    c["bt.indirect_lookups"] = static_cast<double>(b.indirect_lookups);
    c["bt.indirect_misses"] = static_cast<double>(b.indirect_misses);
    c["bt.in_cache_emulations"] = static_cast<double>(b.in_cache_emulations);
    c["bt.chained"] = static_cast<double>(b.chained);
    // Adaptive BT: stores emulated by their callout (each is also one of bt.callouts).
    c["bt.adapted_writes"] = static_cast<double>(b.adapted_writes);
    c["bt.adapted_misses"] = static_cast<double>(b.adapted_misses);
    c["bt.adaptations"] = static_cast<double>(b.adaptations + b.adaptations_undone);
  }
  return c;
}

Technique technique_of(Vm& vm) {
  const std::string name = vm.engine().name();
  if (name == "vtx") return Technique::HardwareAssist;
  if (name == "bt") return Technique::BinaryTranslation;
  return Technique::Native;
}

}  // namespace hvsim
