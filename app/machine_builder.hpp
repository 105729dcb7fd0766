#pragma once
// A VM wired with the platform devices (COM1 console, debug exit, test interval timer) and a
// guest loaded into it: a flat binary or an ELF kernel with its initrd and command line.
#include <memory>
#include <string>
#include <vector>

#include "core/vm/engine.hpp"
#include "core/vm/vm.hpp"
#include "devices/debug_exit.hpp"
#include "devices/interval_timer.hpp"
#include "devices/local_apic.hpp"
#include "devices/port_bus.hpp"
#include "devices/uart16550.hpp"

namespace hvsim {

struct Machine {
  std::unique_ptr<MachineMemory> machine;  // null when the machine shares a host's pool
  std::unique_ptr<EventLog> log;           // null when it shares a host's log
  std::unique_ptr<Engine> engine;          // null for the native engine
  std::unique_ptr<Vm> vm;
  PortBus ports;
  std::unique_ptr<Uart16550> uart;
  std::unique_ptr<DebugExit> debug_exit;
  std::unique_ptr<IntervalTimer> timer;
  std::unique_ptr<LocalApic> apic;  // kernels, and flat guests with flat_apic (others keep the simple pending set)
};

struct MachineOptions {
  std::string image_path;   // flat binary, when kernel_path is empty
  std::string kernel_path;  // ELF kernel (docs/boot-protocol.md)
  std::string initrd_path;
  std::string cmdline;
  std::string log_path;  // empty: count events only
  uint64_t max_instructions = 0;
  uint64_t ram_bytes = 64ull << 20;
  std::string name = "guest0";
  PagingMode paging = PagingMode::Native;
  bool paging_given = false;  // false: the engine's preset decides
  EptPageSize ept_page = EptPageSize::Size4K;
  std::string engine = "native";  // native or vtx
  std::string preset;             // vtx: vtx-2006 or vtx-ept (default vtx-ept)
  // A flat guest gets a local APIC at 0xfee00000 as its interrupt controller too (the test
  // timer's vectors then go through it: the guest enables it and ends each with EOI).
  bool flat_apic = false;
};

// `image` is the flat binary or the kernel ELF; `initrd` may be empty.
Result<std::unique_ptr<Machine>> build_machine(const MachineOptions& options, const std::vector<uint8_t>& image,
                                               const std::vector<uint8_t>& initrd = {});
// The same, with RAM from a host's machine pool and records into the host's log.
Result<std::unique_ptr<Machine>> build_guest(MachineMemory& pool, EventLog& log, const MachineOptions& options,
                                             const std::vector<uint8_t>& image, const std::vector<uint8_t>& initrd);
// Machine memory for a guest of `ram_bytes` and its VMM structures.
uint64_t machine_bytes_for(uint64_t ram_bytes);
Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace hvsim
