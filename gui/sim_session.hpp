#pragma once
// The simulated host the visualizer shows: one machine pool, one event log watched in memory,
// one or several guests run in turn a slice of their own virtual time each (as core/vm/host
// does, but a slice at a time, so snapshots can be taken between slices). Used only by the
// simulation thread.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/machine_builder.hpp"
#include "gui/event_history.hpp"
#include "gui/launch.hpp"
#include "gui/memory_map.hpp"

namespace hvsim::gui {

struct GuestRun {
  std::unique_ptr<Machine> machine;
  std::string console;           // the last kConsoleKeep bytes printed
  uint64_t console_bytes = 0;
  bool ended = false;
  RunOutcome outcome;
};

class SimSession {
 public:
  static constexpr size_t kConsoleKeep = 16 * 1024;
  static Result<std::unique_ptr<SimSession>> create(const LaunchPlan& plan, const EngineSetup& setup);
  SimSession(const SimSession&) = delete;
  SimSession& operator=(const SimSession&) = delete;
  ~SimSession();

  // Runs every guest still running for up to `slice_ns` of its virtual time; false once all
  // have ended.
  bool run_slice(uint64_t slice_ns);
  bool all_ended() const;
  size_t guest_count() const { return guests_.size(); }
  Vm& vm(size_t i) { return *guests_[i].machine->vm; }
  const GuestRun& guest(size_t i) const { return guests_[i]; }
  // The furthest any guest's virtual time has got.
  uint64_t max_now_ns() const;
  uint64_t slices() const { return slices_; }
  const MachineMemory& pool() const { return *pool_; }
  const EventLog& log() const { return *log_; }
  const EventHistory& history() const { return history_; }
  std::shared_ptr<const MachineMap> machine_map() const { return map_; }
  // The paging the guests got (the engine's default when the setup gave none).
  PagingMode paging() const { return paging_; }
  const EngineSetup& setup() const { return setup_; }

 private:
  SimSession() = default;
  std::unique_ptr<MachineMemory> pool_;
  std::unique_ptr<EventLog> log_;
  EventHistory history_;
  std::vector<GuestRun> guests_;
  std::shared_ptr<const MachineMap> map_;
  PagingMode paging_ = PagingMode::Native;
  EngineSetup setup_;
  uint64_t slices_ = 0;
};

// "exited with status 0", "triple fault", ...
std::string describe_end(const RunOutcome& outcome);

}  // namespace hvsim::gui
