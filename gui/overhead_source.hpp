#pragma once
// Where the overhead view's numbers come from: a `hvsim compare --json` file given at start,
// or a measurement the trainer starts from the view, which runs `hvsim compare` on the
// scenario on a thread of its own (it takes seconds to minutes; the UI never waits for it).
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/util/result.hpp"
#include "gui/overhead.hpp"

namespace hvsim::gui {

class OverheadSource {
 public:
  struct State {
    std::shared_ptr<const OverheadData> data;
    std::string origin;  // "scenarios/x.json", "measured: p4-2006"
    std::string error;   // the last measurement's failure
    bool measuring = false;
    std::chrono::steady_clock::time_point started;
  };

  // `scenario_path` empty: nothing to measure (a flat guest or a kernel without a scenario).
  OverheadSource(std::string scenario_path, std::string build_dir);
  Result<void> load(const std::string& path);
  bool can_measure() const { return !scenario_path_.empty(); }
  // Starts measuring unless a measurement runs; the result replaces the data shown when done.
  void measure(std::vector<std::string> engines, std::string profile);
  State state() const;

 private:
  struct Shared {
    std::mutex mutex;
    State state;
  };
  std::string scenario_path_, build_dir_;
  // Shared with the measuring thread, which is detached: closing the window abandons it.
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace hvsim::gui
