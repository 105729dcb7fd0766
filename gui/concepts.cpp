#include "gui/concepts.hpp"

namespace hvsim::gui {

const std::vector<Concept>& all_concepts() {
  static const std::vector<Concept> concepts = {
      {"trap_point", "Trap point",
       "An instruction the guest may not run by itself: the CPU stops just before it and the hypervisor "
       "decides what it does (emulates it, or lets it run once)."},
      {"exception", "Exception",
       "A fault the guest's own code caused (divide by zero, page fault, general protection); it is "
       "delivered through the guest's IDT to the guest's handler."},
      {"interrupt", "Interrupt",
       "A device (here the timer) asks for attention; it is delivered through the guest's IDT when "
       "interrupts are enabled and the task priority allows it."},
      {"software_interrupt", "Software interrupt",
       "INT n executed by the guest: a deliberate call into the guest kernel through its IDT, checked "
       "against the gate's privilege level."},
      {"isolation", "Isolation event",
       "The guest reached for a guest-physical address that nothing backs; the hypervisor gives it "
       "nothing (all ones), so it can never see another guest's memory."},
      {"ept", "EPT (extended page tables)",
       "Hardware translates twice: the guest's tables map linear to guest-physical, and the hypervisor's "
       "EPT maps guest-physical to machine addresses."},
      {"ept_walk", "Two-dimensional walk",
       "Every guest page-table entry sits at a guest-physical address, so each of its 4 reads first needs "
       "an EPT walk of 4 reads: 4 x (4 + 1) + 4 = 24 memory references for one TLB miss."},
      {"ept_violation", "EPT violation",
       "The EPT has no entry, or not the right permission, for a guest-physical address: the CPU exits "
       "to the hypervisor (exit reason 48) instead of the guest seeing a fault."},
      {"ept_misconfig", "EPT misconfiguration",
       "An EPT entry the processor cannot use (write without read, a bad memory type, reserved bits): "
       "exit reason 49, always the hypervisor's bug."},
      {"shadow", "Shadow paging",
       "Without EPT the hypervisor builds its own page tables mapping guest-linear straight to machine "
       "addresses, and keeps them in step with the guest's tables."},
      {"hidden_fault", "Hidden page fault",
       "A shadow-table miss the hypervisor resolves itself by walking the guest's tables; the guest never "
       "knows it happened, but it costs an exit."},
      {"true_fault", "True page fault",
       "The guest's own tables refuse the access, so the hypervisor reflects the #PF to the guest, as the "
       "hardware would have."},
      {"traced_write", "Traced page-table write",
       "The guest's page tables are write-protected in the shadow, so the hypervisor sees every change "
       "and drops the shadow entries built from it."},
      {"tlb_fill", "TLB fill",
       "A translation the CPU does not have cached: the MMU walks the tables and keeps the result until "
       "the guest changes CR3 or invalidates it."},
      {"cpl", "CPL",
       "The current privilege level: 0 is the kernel, 3 is user code; privileged instructions fault at 3."},
      {"virtual_time", "Virtual time",
       "Guest time counts retired instructions (1 ns each) plus idle time, never the host clock, so every "
       "run is the same to the nanosecond."},
      {"machine_memory", "Machine memory",
       "The host's physical memory: each guest's RAM is one range of it, and the hypervisor's own tables "
       "another; no guest can name a frame outside its own range."},
      {"p2m", "Guest-physical to machine (p2m)",
       "The hypervisor's map of which machine frames back each guest-physical range; EPT tables and shadow "
       "entries are built from it."},
      {"slice", "Slice",
       "The simulation runs each guest for a slice of its own virtual time, then publishes a picture; "
       "several guests take turns slice by slice."},
      {"engines", "Engines",
       "native is the guest alone on the machine; bt runs guest kernel code from a translation cache in "
       "which sensitive instructions were rewritten (VMware, 1999-2006). vtx-2006 and vtx-ept are hardware "
       "assist, where the CPU exits to the hypervisor (first-generation VT-x, then with EPT)."},
      {"vm_exit", "VM exit",
       "Under VT-x the CPU leaves the guest and enters the hypervisor on the events its VMCS asks for "
       "(CPUID, I/O, CR writes, page faults...); the exit reason says which. Each costs about a thousand cycles."},
      {"callout", "Callout",
       "Under binary translation, translated code calls into the hypervisor where the guest's instruction "
       "cannot simply be copied: a sensitive instruction to emulate, a branch target not translated yet, an "
       "indirect branch to look up."},
      {"rewrite", "Rewrite",
       "What the translator made of one guest instruction: copied unchanged (IDENT), re-encoded for its new "
       "address, emulated in the cache, or a callout. POPF needs one: at CPL 0 it changes IF silently, at "
       "CPL 3 it ignores it silently, so a deprivileged kernel cannot run it as is."},
      {"overhead", "Overhead",
       "Each run's events priced in cycles by a cost profile (Pentium 4 in 2006 by default): what a "
       "technique costs per operation against native, beside Adams & Agesen's measurements."},
      {"step", "Step",
       "Runs the guest to its next stop: at least one instruction, up to the end of its basic block or "
       "the next trap point."},
  };
  return concepts;
}

const Concept* find_concept(std::string_view key) {
  for (const Concept& c : all_concepts()) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

const Concept* concept_for_event(std::string_view kind) {
  if (kind == "exception" || kind == "interrupt" || kind == "software_interrupt" || kind == "isolation") {
    return find_concept(kind);
  }
  if (kind == "triple_fault" || kind == "exception_storm") return find_concept("exception");
  if (kind.starts_with("exit ")) return find_concept("vm_exit");
  if (kind.starts_with("callout ")) return find_concept("callout");
  return nullptr;
}

}  // namespace hvsim::gui
