#pragma once
// A flat guest under the vtx engine with a given (possibly edited) preset.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/vm/flat_loader.hpp"
#include "core/vm/vm.hpp"
#include "devices/debug_exit.hpp"
#include "devices/interval_timer.hpp"
#include "devices/port_bus.hpp"
#include "hwassist/vtx_engine.hpp"

namespace hvsim::test {

struct VtxVm {
  MachineMemory machine{96ull << 20};
  EventLog log;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<vmx::VtxEngine> engine;
  PortBus ports;
  std::unique_ptr<DebugExit> debug_exit;
  std::unique_ptr<IntervalTimer> timer;

  VtxVm(const std::vector<uint8_t>& code, vmx::Preset preset, uint64_t max_instructions = 100000) {
    VmConfig config;
    config.paging = preset.paging;
    config.max_instructions = max_instructions;
    auto created = Vm::create(machine, config, log);
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    vm = std::move(*created);
    debug_exit = std::make_unique<DebugExit>(*vm);
    ports.attach(0xf4, 4, *debug_exit);
    timer = std::make_unique<IntervalTimer>(*vm);
    ports.attach(0xf0, 4, *timer, 0);  // as hvsim run --flat wires it (docs/flat-guests.md)
    ports.attach(0xf8, 1, *timer, 8);
    vm->set_port_io(ports);
    REQUIRE(load_flat_guest(*vm, code).ok());
    auto e = vmx::VtxEngine::create(std::move(preset));
    REQUIRE(e.ok());
    engine = std::move(*e);
    auto entered = engine->enter(*vm);
    REQUIRE_MESSAGE(entered.ok(), (entered.ok() ? "" : entered.error().message));
    vm->set_engine(*engine);
  }
  RunOutcome run() { return vm->run(); }
  uint64_t exits(vmx::ExitReason r) { return engine->exits(*vm).by_reason[static_cast<unsigned>(r)]; }
  uint64_t field(vmx::Field f) { return engine->vmcs().get(f); }
};

inline vmx::Preset preset_named(const char* name) {
  auto p = vmx::preset(name);
  REQUIRE(p);
  return *p;
}

inline std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// out 0xf4, al ; jmp $ : the run ends with status al
const std::vector<uint8_t> kExit = {0xe6, 0xf4, 0xeb, 0xfe};

}  // namespace hvsim::test
