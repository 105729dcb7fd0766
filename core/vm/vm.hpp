#pragma once
// One virtual machine: guest RAM, a vCPU on the CPU substrate, the platform devices plug
// into, virtual time and the event log. run() is the machine loop: it lets the CPU run until
// a stop, then does what the hardware (native engine) does for that stop.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu/event_delivery.hpp"
#include "core/cpu/unicorn_cpu.hpp"
#include "core/log/event_log.hpp"
#include "core/mem/guest_ram.hpp"
#include "core/mem/linear_memory.hpp"
#include "core/mem/machine_memory.hpp"
#include "core/mem/ept.hpp"
#include "core/mem/guest_mmu.hpp"
#include "core/mem/paging_mode.hpp"
#include "core/mem/vmm_frames.hpp"
#include "core/mem/vmm_window.hpp"
#include "core/time/virtual_clock.hpp"
#include "core/vm/engine.hpp"
#include "core/vm/platform.hpp"

namespace hvsim {

struct VmConfig {
  std::string name = "guest0";
  uint64_t ram_bytes = 64ull << 20;
  uint64_t max_instructions = 0;  // 0: no limit
  uint64_t rdrand_seed = 0x9e3779b97f4a7c15ull;
  PagingMode paging = PagingMode::Native;     // how guest-physical memory reaches machine memory
  EptPageSize ept_page = EptPageSize::Size4K;  // largest EPT page the VMM uses
  uint64_t vmm_bytes = 8ull << 20;            // VMM frames for EPT and shadow tables
};

enum class RunEnd : uint8_t {
  Exited,
  TripleFault,
  HaltedForever,
  BudgetExhausted,
  Stopped,
  HostError,
  ExceptionStorm,
  SliceEnded,  // run(until_ns) reached its virtual time: the guest goes on at the next run
};

// A handler that faults on its own first instruction loops forever without retiring anything,
// so neither virtual time nor an instruction budget would end it. Real hardware would spin;
// hvsim ends the run after this many consecutive exceptions without progress.
constexpr uint64_t kExceptionStormLimit = 100'000;
const char* run_end_name(RunEnd e);

struct RunOutcome {
  RunEnd end = RunEnd::Exited;
  int exit_status = 0;
  std::string detail;
};

struct VmCounters {
  uint64_t exceptions_delivered = 0;
  uint64_t interrupts_delivered = 0;
  uint64_t syscalls = 0;
  uint64_t port_io = 0;
  uint64_t instructions_emulated = 0;
  uint64_t mmio_accesses = 0;
  // Stops before trapped instructions, by kind, whatever the engine then did with them.
  std::array<uint64_t, kTrapKindCount> trap_stops{};
};

class Vm : public Platform {
 public:
  static Result<std::unique_ptr<Vm>> create(MachineMemory& machine, const VmConfig& config, EventLog& log);
  ~Vm() override;

  GuestRam& ram() { return *ram_; }
  GuestMmu& mmu() { return *paging_; }
  // The VMM's own part of the guest address space (the bt engine's translation cache).
  VmmWindowTranslator& vmm_window() { return *window_; }
  UnicornCpu& cpu() { return *cpu_; }
  const VmConfig& config() const { return config_; }
  const VmCounters& counters() const { return counters_; }
  void set_port_io(PortIo& io) { ports_ = &io; }
  Result<void> map_mmio(uint64_t gpa, uint64_t size, MmioHandler& handler);
  void set_console(std::function<void(char)> sink) { console_ = std::move(sink); }

  // Runs until the guest ends, or until its virtual time reaches `until_ns` (a host's slice).
  RunOutcome run(uint64_t until_ns = UINT64_MAX);

  // Platform
  uint64_t now_ns() const override;
  uint64_t arm_timer(uint64_t deadline_ns, std::function<void()> cb, std::function<int()> raises) override;
  void cancel_timer(uint64_t id) override;
  void raise_interrupt(uint8_t vector) override;
  uint8_t task_priority_class() const override { return static_cast<uint8_t>(cpu_->cr(8)); }
  void set_task_priority_class(uint8_t cls) override { cpu_->set_cr(8, cls & 0xf); }
  // Replaces the built-in pending set (a local APIC, for kernels).
  void set_interrupt_controller(InterruptController& ic) {
    irq_ = &ic;
    interrupts_seen_ = ic.accepted();
  }
  const InterruptController& interrupt_controller() const { return *irq_; }
  // The execution engine (default: native); its trap policy is installed on the vCPU.
  void set_engine(Engine& engine);
  Engine& engine() { return *engine_; }
  void request_exit(int status) override;
  void console_output(char c) override;

  // Used by the hardware model (native_hardware.cpp).
  LinearMemory& linear() { return *linear_; }
  // Builds the record only when the log is being written; otherwise just counts the kind.
  template <typename Fill>
  void log(const char* kind, Fill&& fill) {
    if (!log_.recording()) {
      log_.count(kind);
      return;
    }
    LogRecord r;
    fill(r);
    append_log(kind, std::move(r));
  }
  void log(const char* kind) {
    log(kind, [](LogRecord&) {});
  }
  // The same, for a record about guest instruction `rip` while the CPU is elsewhere (a bt
  // callout stops in the translation cache; the log names the guest's instruction).
  template <typename Fill>
  void log_at(const char* kind, uint64_t rip, Fill&& fill) {
    if (!log_.recording()) {
      log_.count(kind);
      return;
    }
    LogRecord r;
    fill(r);
    append_log(kind, std::move(r), rip);
  }
  // Raises an exception at the current instruction; false if that ended in a triple fault.
  bool raise_exception(uint8_t vector, uint32_t error_code = 0);
  bool deliver(const Event& ev);
  PortIo* port_io() { return ports_; }
  VmCounters& mutable_counters() { return counters_; }
  // The stop just handled emulated no guest instruction (a bt trampoline's return): an
  // interrupt shadow the CPU holds (STI, MOV SS) lasts until the next instruction.
  void keep_interrupt_shadow() { emulated_since_run_ = false; }
  uint64_t tsc() const { return now_ns() + static_cast<uint64_t>(tsc_offset_); }
  void set_tsc(uint64_t value) { tsc_offset_ = static_cast<int64_t>(value - now_ns()); }
  uint64_t next_random();  // RDRAND/RDSEED: deterministic per scenario seed
  void halt() { halted_ = true; }

 private:
  Vm(const VmConfig& config, EventLog& log);
  void append_log(const char* kind, LogRecord r, std::optional<uint64_t> rip = std::nullopt);
  bool handle_stop(const StopReason& stop, RunOutcome& out);
  bool handle_trap(const StopReason& stop, RunOutcome& out);
  // What keeps the interrupt the controller offers (one its priority lets through) from
  // being delivered now.
  enum class Held : uint8_t { Nothing, ByIf, ByShadow };
  Held try_inject_interrupt();
  bool halt_can_end() const;

  VmConfig config_;
  EventLog& log_;
  std::unique_ptr<GuestRam> ram_;
  std::optional<VmmFrames> vmm_frames_;
  std::optional<EptTables> ept_;
  std::unique_ptr<GuestMmu> paging_;
  std::unique_ptr<VmmWindowTranslator> window_;  // in front of paging_: the CPU's translator
  std::unique_ptr<UnicornCpu> cpu_;
  std::unique_ptr<LinearMemory> linear_;
  PortIo* ports_ = nullptr;
  std::function<void(char)> console_;
  TimerQueue timers_;
  uint64_t idle_ns_ = 0;
  PendingVectors builtin_irq_;
  InterruptController* irq_ = &builtin_irq_;
  Engine* engine_ = nullptr;
  uint64_t interrupts_seen_ = 0;  // irq_->accepted() already told to the engine
  bool halted_ = false;
  bool emulated_since_run_ = false;  // the last stop was a trap point the VMM emulated
  bool exit_requested_ = false;
  int exit_status_ = 0;
  bool triple_faulted_ = false;
  uint64_t storm_count_ = 0;
  uint64_t storm_retired_ = ~0ull;
  bool storm_ = false;
  uint64_t rng_state_;
  int64_t tsc_offset_ = 0;  // IA32_TSC writes
  VmCounters counters_;
  class CountingMmio;
  std::vector<std::unique_ptr<CountingMmio>> mmio_windows_;

  friend struct NativeHardware;
};

}  // namespace hvsim
