#pragma once
// The simulation on its own thread: it builds the host, runs it a slice at a time, and
// publishes an immutable Snapshot between slices (at most ~60 times a second while running,
// and after every command). The UI thread only posts commands and takes the latest snapshot;
// neither ever waits for the other beyond swapping a pointer.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gui/launch.hpp"
#include "gui/sim_session.hpp"
#include "gui/snapshot.hpp"

namespace hvsim::gui {

struct SimStart {
  EngineSetup setup;
  bool paused = false;
  uint64_t pause_at_ns = 0;  // pause once a guest's virtual time reaches it (0: never)
  double speed = 0;          // virtual ns per wall-clock ns; 0: as fast as possible
  std::optional<WalkQuery> walk;
};

class SimThread {
 public:
  SimThread(LaunchPlan plan, const SimStart& start);
  ~SimThread();
  SimThread(const SimThread&) = delete;
  SimThread& operator=(const SimThread&) = delete;

  // The latest snapshot (null until the host is built).
  std::shared_ptr<const Snapshot> latest() const;
  // Waits until a snapshot satisfies `done` or `timeout` passes; returns the latest.
  std::shared_ptr<const Snapshot> wait_for(const std::function<bool(const Snapshot&)>& done,
                                           std::chrono::milliseconds timeout) const;

  void run();
  void pause();
  void step();                 // one slice of a one-nanosecond budget: the next block boundary
  void reset(const EngineSetup& setup);  // rebuilds the host with this engine and paging
  void set_speed(double virtual_per_wall);
  // The address the translation view shows for guest `guest` (nullopt: the instruction at RIP).
  void select_walk(size_t guest, std::optional<WalkQuery> query);
  // The guest code address whose translation the code view shows under bt (nullopt: RIP's).
  void select_translation(size_t guest, std::optional<uint64_t> guest_rip);

 private:
  struct Requests {
    bool run = false, pause = false, step = false;
    std::optional<EngineSetup> reset;
    std::optional<double> speed;
    std::vector<std::pair<size_t, std::optional<WalkQuery>>> walks;
    std::vector<std::pair<size_t, std::optional<uint64_t>>> translations;
    bool any() const { return run || pause || step || reset || speed || !walks.empty() || !translations.empty(); }
  };
  void loop();
  void rebuild(const EngineSetup& setup, SimMode then);
  void apply(Requests& r, bool& publish_now);
  void run_one_slice();
  void publish();
  void restart_pacing();
  uint64_t slice_ns() const;

  const LaunchPlan plan_;
  // Shared with the UI thread.
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;       // commands for the simulation thread
  mutable std::condition_variable published_;  // a new snapshot
  Requests requests_;
  bool quit_ = false;
  std::shared_ptr<const Snapshot> latest_;
  // Simulation thread only.
  std::unique_ptr<SimSession> session_;
  std::string build_error_;
  SimMode mode_ = SimMode::Running;
  double speed_ = 0;
  uint64_t pause_at_ns_ = 0;
  std::vector<std::optional<WalkQuery>> walks_;
  std::vector<std::optional<uint64_t>> translations_;
  RegisterTrail register_trail_;
  uint64_t sequence_ = 0, generation_ = 0;
  std::chrono::steady_clock::time_point last_publish_{}, pace_wall0_{};
  uint64_t pace_virtual0_ = 0;
  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace hvsim::gui
