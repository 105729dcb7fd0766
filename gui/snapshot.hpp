#pragma once
// What the simulation thread publishes and the views draw: an immutable picture of the host
// at one moment. Views never touch the VM; they hold a shared pointer to the latest snapshot.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu/unicorn_cpu.hpp"
#include "core/mem/mem_counters.hpp"
#include "core/mem/paging_mode.hpp"
#include "core/vm/vm.hpp"
#include "gui/code_window.hpp"
#include "gui/event_history.hpp"
#include "gui/launch.hpp"
#include "gui/memory_map.hpp"
#include "gui/translation_capture.hpp"
#include "gui/walk_layout.hpp"

namespace hvsim::gui {

struct RegisterFile {
  std::array<uint64_t, kGprCount> gpr{};
  uint64_t rip = 0, rflags = 0, cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0, efer = 0;
  unsigned cpl = 0;
  bool operator==(const RegisterFile&) const = default;
};

// One named register value, in the order the registers view lists them.
struct RegisterValue {
  const char* name;
  uint64_t value;
};
std::vector<RegisterValue> register_list(const RegisterFile& r);
// Names of the registers whose value differs between two register files.
std::vector<const char*> changed_registers(const RegisterFile& before, const RegisterFile& after);

struct GuestSnapshot;

// Per guest, the registers as they were before their last change, so that a snapshot taken
// without progress (a new address picked while paused) keeps showing what the last step did.
class RegisterTrail {
 public:
  void update(size_t guest, GuestSnapshot& g);
  void clear() { guests_.clear(); }

 private:
  struct Trail {
    RegisterFile last, before;
    bool seen = false, changed = false;
  };
  std::vector<Trail> guests_;
};

struct GuestSnapshot {
  std::string name;
  bool ended = false;
  std::string end_text;          // "exited with status 0", "triple fault", ...
  uint64_t instructions = 0;
  uint64_t now_ns = 0;
  RegisterFile regs;
  RegisterFile prev_regs;        // at the snapshot before: what the last step changed
  bool has_prev = false;
  VmCounters vm;
  CpuCounters cpu;
  MemCounters mem;
  std::vector<DisasmLine> code;
  TranslationView translation;   // under bt: the fragment running the code at RIP
  // What the engine counted, named as `hvsim compare` names them (vm_exits, exit.*, bt.*).
  std::vector<std::pair<std::string, uint64_t>> engine_counts;
  WalkLayout walk;
  std::string console;           // the last part of what the guest printed
  uint64_t console_bytes = 0;    // everything it printed
  uint64_t ram_bytes = 0;
  uint64_t ram_machine_address = 0;
};

enum class SimMode : uint8_t { Running, Paused, Ended };
const char* sim_mode_name(SimMode m);

struct Snapshot {
  uint64_t sequence = 0;         // increases with every publication
  uint64_t generation = 0;       // increases with every reset
  SimMode mode = SimMode::Paused;
  std::string title;
  PagingMode paging = PagingMode::Native;  // what the guests got
  EngineSetup setup;                       // what the host was built with
  double speed = 0;              // virtual ns per wall-clock ns; 0: as fast as possible
  uint64_t slices = 0;           // slices run since the reset
  std::vector<GuestSnapshot> guests;
  EventWindow events;
  std::map<std::string, uint64_t, std::less<>> counts_by_kind;  // since the reset, all guests
  std::shared_ptr<const MachineMap> machine;
  std::string error;             // the host could not be built
};

}  // namespace hvsim::gui
