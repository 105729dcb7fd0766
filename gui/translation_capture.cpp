#include "gui/translation_capture.hpp"

#include "gui/code_window.hpp"
#include "translator/bt_engine.hpp"
#include "translator/unit.hpp"

namespace hvsim::gui {

TranslationView capture_translation(Vm& vm, std::optional<uint64_t> at) {
  TranslationView v;
  auto* engine = dynamic_cast<bt::BtEngine*>(&vm.engine());
  if (!engine) return v;
  UnicornCpu& cpu = vm.cpu();
  v.guest_rip = at.value_or(cpu.rip());
  v.at_rip = v.guest_rip == cpu.rip();
  // At CPL 3 the code at RIP is user code. (A picked address cannot be told apart: pages may
  // be reachable from both levels; it shows a fragment or none.)
  if (v.at_rip && cpu.cpl() == 3) {
    v.state = TranslationView::State::UserCode;
    return v;
  }
  const bt::Fragment* f = engine->fragment_containing(v.guest_rip);
  if (!f) {
    v.state = TranslationView::State::NotTranslated;
    return v;
  }
  v.state = TranslationView::State::Translated;
  v.tc_address = f->tc_address;
  v.tc_size = f->size;
  // The unit is decoded again from guest memory as the code view reads it: through the guest's
  // tables, without touching accessed bits or the TLB.
  const PagingControl control = vm.mmu().control();
  const bt::TranslationUnit unit = bt::build_unit(
      [&vm, &control](uint64_t va, std::span<uint8_t> out) {
        return read_guest_code(vm.ram(), control, va, out.data(), out.size());
      },
      f->guest_rip);
  v.guest_begin = f->guest_rip;
  v.guest_end = unit.guest_end;
  v.stale = unit.insns.size() != f->insns.size();
  for (size_t i = 0; !v.stale && i < unit.insns.size(); ++i) v.stale = unit.insns[i].guest_rip != f->insns[i].guest_rip;
  v.lines = bt::explain(unit, *f, engine->tc_bytes(f->tc_address, f->size));
  return v;
}

}  // namespace hvsim::gui
