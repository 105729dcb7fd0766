#include "gui/walk_capture.hpp"

namespace hvsim::gui {

WalkLayout capture_walk(Vm& vm, const MachineMemory& machine, const WalkQuery& q) {
  GuestMmu& mmu = vm.mmu();
  WalkLayout l;
  if (auto* ept = dynamic_cast<EptPaging*>(&mmu)) {
    l = layout_ept(ept->translate(q.va, q.access, q.cpl), q);
  } else if (auto* shadow = dynamic_cast<ShadowPaging*>(&mmu)) {
    l = layout_shadow(shadow->translate(q.va, q.access, q.cpl), q);
  } else {
    l = layout_native(walk_page_tables(vm.ram(), mmu.control(), q.va, q.access, q.cpl, false), mmu.p2m(), q);
  }
  l.cr3 = mmu.control().cr3;
  if (l.has_mpa) {
    const std::string& owner = machine.owner_of(l.mpa);
    l.mpa_owner = owner.empty() ? "free" : owner;
  }
  return l;
}

}  // namespace hvsim::gui
