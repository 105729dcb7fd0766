#pragma once
// A VM wired with the flat-guest devices: COM1 console, debug exit, test interval timer.
#include <memory>
#include <string>
#include <vector>

#include "core/vm/vm.hpp"
#include "devices/debug_exit.hpp"
#include "devices/interval_timer.hpp"
#include "devices/port_bus.hpp"
#include "devices/uart16550.hpp"

namespace hvsim {

struct FlatMachine {
  std::unique_ptr<MachineMemory> machine;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<Vm> vm;
  PortBus ports;
  std::unique_ptr<Uart16550> uart;
  std::unique_ptr<DebugExit> debug_exit;
  std::unique_ptr<IntervalTimer> timer;
};

struct FlatOptions {
  std::string image_path;
  std::string log_path;  // empty: count events only
  uint64_t max_instructions = 0;
  uint64_t ram_bytes = 64ull << 20;
};

Result<std::unique_ptr<FlatMachine>> build_flat_machine(const FlatOptions& options,
                                                        const std::vector<uint8_t>& image);
Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace hvsim
