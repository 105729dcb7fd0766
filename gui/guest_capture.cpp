#include "gui/guest_capture.hpp"

#include "app/event_counts.hpp"
#include "gui/translation_capture.hpp"
#include "gui/walk_capture.hpp"

namespace hvsim::gui {

RegisterFile capture_registers(UnicornCpu& cpu) {
  RegisterFile r;
  for (int i = 0; i < kGprCount; ++i) r.gpr[static_cast<size_t>(i)] = cpu.gpr(static_cast<Gpr>(i));
  r.rip = cpu.rip();
  r.rflags = cpu.rflags();
  r.cr0 = cpu.cr(0);
  r.cr2 = cpu.cr(2);
  r.cr3 = cpu.cr(3);
  r.cr4 = cpu.cr(4);
  r.cr8 = cpu.cr(8);
  r.efer = cpu.msr(msr::IA32_EFER);
  r.cpl = cpu.cpl();
  return r;
}

GuestSnapshot capture_guest(Vm& vm, const MachineMemory& machine, const CaptureRequest& request) {
  GuestSnapshot g;
  UnicornCpu& cpu = vm.cpu();
  g.name = vm.config().name;
  g.instructions = cpu.instructions_retired();
  g.now_ns = vm.now_ns();
  g.regs = capture_registers(cpu);
  g.vm = vm.counters();
  g.cpu = cpu.counters();
  g.mem = vm.mmu().counters();
  g.ram_bytes = vm.ram().size();
  g.ram_machine_address = vm.ram().machine_address();
  g.code = code_around(vm.ram(), vm.mmu().control(), g.regs.rip, request.code_before, request.code_after,
                       cpu.trap_policy());
  g.translation = capture_translation(vm, request.translation_at);
  for (const auto& [name, value] : collect_event_counts(vm)) {
    if (name.starts_with("bt.") || name.starts_with("exit.") || name == "vm_exits" || name == "injections") {
      g.engine_counts.emplace_back(name, static_cast<uint64_t>(value));
    }
  }
  WalkQuery q = request.walk.value_or(WalkQuery{g.regs.rip, Access::Fetch, g.regs.cpl});
  g.walk = capture_walk(vm, machine, q);
  return g;
}

}  // namespace hvsim::gui
