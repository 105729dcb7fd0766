#pragma once
// A flat VM with hand-assembled code at 0x100000, for tests of the substrate and the VM loop.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/vm/flat_loader.hpp"
#include "core/vm/vm.hpp"

namespace hvsim::test {

struct FlatVm {
  MachineMemory machine{80ull << 20};
  EventLog log;
  std::unique_ptr<Vm> vm;
  explicit FlatVm(const std::vector<uint8_t>& code, const VmConfig& config = {}) {
    auto created = Vm::create(machine, config, log);
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    vm = std::move(*created);
    auto loaded = load_flat_guest(*vm, code);
    REQUIRE(loaded.ok());
  }
  UnicornCpu& cpu() { return vm->cpu(); }
};

}  // namespace hvsim::test
