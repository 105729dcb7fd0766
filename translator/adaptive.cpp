// Adaptive binary translation (Adams & Agesen 2006, section 3.2): under shadow paging a guest
// kernel store to a traced page table is a page fault to the VMM, which emulates it. A store
// that keeps faulting is retranslated into a callout that emulates the write without the
// fault; one that then keeps missing page tables is translated back to an IDENT copy.
#include <cstring>

#include "core/cpu/unicorn_cpu.hpp"
#include "core/mem/linear_memory.hpp"
#include "core/vm/vm.hpp"
#include "translator/bt_engine.hpp"
#include "translator/store_emulation.hpp"

namespace hvsim::bt {

BtEngine::StoreOutcome BtEngine::emulate_store(Vm& vm, const Instruction& insn, bool* hit_page_table) {
  UnicornCpu& cpu = vm.cpu();
  auto store = simple_store(cpu, insn);
  if (!store) return StoreOutcome::NotSimple;
  // Which page it hits, before writing (the write itself may change the tables).
  const WalkResult w = walk_page_tables(vm.ram(), vm.mmu().control(), store->va, Access::Write, cpu.cpl(), false);
  if (!w.ok || !vm.ram().contains(w.gpa, store->size)) return StoreOutcome::NotSimple;  // the CPU faults, or a device
  *hit_page_table = vm.mmu().traces_page(w.gpa);
  if (auto fault = vm.linear().write(store->va, &store->value, store->size, cpu.cpl())) {
    cpu.set_cr(2, fault->cr2);
    vm.raise_exception(fault->vector, fault->error_code);
    return StoreOutcome::Faulted;
  }
  vm.mmu().sync();  // drop the shadow entries built from what changed, now
  cpu.add_retired(1);
  if (cpu.interrupt_shadow()) cpu.end_interrupt_shadow();  // the store was the shadowed instruction
  return StoreOutcome::Done;
}

// A stop at a store in the cache that the MMU refused because it writes a traced page table.
bool BtEngine::traced_write_fault(Vm& vm) {
  UnicornCpu& cpu = vm.cpu();
  const uint64_t tc = cpu.rip();
  const Fragment* f = fragment_at(tc);
  const FaultRange* r = f ? f->fault_range_at(tc) : nullptr;
  std::optional<Instruction> insn;
  if (r && r->kind == FaultRange::Kind::Ident) insn = cpu.decode_at(tc);  // the guest's own bytes
  bool hit = false;
  if (insn) cpu.set_rip(r->guest_rip);  // a fault of the emulation is the guest instruction's
  const StoreOutcome done = insn ? emulate_store(vm, *insn, &hit) : StoreOutcome::NotSimple;
  if (done == StoreOutcome::NotSimple) {
    cpu.set_rip(tc);
    vm.mmu().allow_traced_write_once();  // the CPU writes it, traced as any untrapped write
    return true;
  }
  ++counters_.pt_write_faults;
  if (done == StoreOutcome::Faulted) return true;
  const uint64_t guest_rip = r->guest_rip, next = guest_rip + insn->length();
  // Back to the guest, just after the store; the fragment resumes there if it still stands.
  cpu.set_rip(next);
  after_callout_ = true;
  resume_hint_ = Resume{next, tc + insn->length()};
  if (++trace_faults_[guest_rip] >= kAdaptAfterFaults) adapt(vm, guest_rip, true);
  return true;
}

bool BtEngine::adapted_store(Vm& vm, const Callout& c, RunOutcome&) {
  UnicornCpu& cpu = vm.cpu();
  cpu.set_rip(c.guest_rip);
  uint8_t bytes[kMaxInsnLength] = {};
  const size_t got = read_guest_code(vm, c.guest_rip, bytes);
  auto insn = decode_instruction(bytes, got, c.guest_rip);
  bool hit = false;
  const StoreOutcome done = insn && insn->length() == c.guest_length ? emulate_store(vm, *insn, &hit)
                                                                      : StoreOutcome::NotSimple;
  if (done == StoreOutcome::NotSimple) {
    // Not the store it was (the code changed, or it now writes a device): translate it again.
    adapt(vm, c.guest_rip, false);
    resume_hint_.reset();
    return true;  // RIP is the guest's store: it runs from a new translation
  }
  if (done == StoreOutcome::Faulted) {
    resume_hint_.reset();
    return true;
  }
  cpu.set_rip(c.next_guest_rip);
  if (hit) {
    ++counters_.adapted_writes;
    adapted_misses_[c.guest_rip] = 0;
  } else {
    ++counters_.adapted_misses;
    if (++adapted_misses_[c.guest_rip] >= kUndoAfterMisses) adapt(vm, c.guest_rip, false);
  }
  return true;
}

// Retranslates every fragment holding the guest instruction at guest_rip, with it adapted
// (a callout) or not (IDENT).
void BtEngine::adapt(Vm& vm, uint64_t guest_rip, bool on) {
  trace_faults_.erase(guest_rip);
  adapted_misses_.erase(guest_rip);
  if (on) {
    if (!adapted_.insert(guest_rip).second) return;
    ++counters_.adaptations;
  } else {
    if (!adapted_.erase(guest_rip)) return;
    ++counters_.adaptations_undone;
  }
  for (const Fragment* f : fragments_holding(guest_rip)) drop_fragment(vm, f->tc_address, false);
}

void BtEngine::mark_adapted(TranslationUnit& unit) const {
  if (adapted_.empty()) return;
  for (GuestInsn& gi : unit.insns) {
    gi.adapted = gi.decoded() && adapted_.count(gi.guest_rip) && is_simple_store(*gi.insn);
  }
}

}  // namespace hvsim::bt
