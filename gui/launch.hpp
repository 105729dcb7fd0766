#pragma once
// Everything needed to (re)build the simulated host, read once before any window opens so
// that bad input is reported as such: each guest's options, image and initrd bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/machine_builder.hpp"
#include "core/util/result.hpp"
#include "gui/gui_options.hpp"

namespace hvsim::gui {

struct GuestLaunch {
  MachineOptions options;
  std::vector<uint8_t> image;   // flat binary or ELF kernel
  std::vector<uint8_t> initrd;
};

// The engine a host is built with (labels as `hvsim compare` takes them: native, bt, vtx-2006,
// vtx-ept) and its paging (nullopt: the engine's default: shadow for bt, the vtx preset's).
struct EngineSetup {
  std::string engine = "native";
  std::optional<PagingMode> paging;
  bool operator==(const EngineSetup&) const = default;
};
const std::vector<std::string>& engine_labels();
// Why `setup` cannot be built (vtx needs its memory virtualized), or empty.
std::string engine_setup_problem(const EngineSetup& setup);

struct LaunchPlan {
  std::string title;             // the scenario's name, or the guest file's
  std::string scenario_path;     // empty for --flat / --kernel (the overhead view measures scenarios)
  EngineSetup setup;
  uint64_t slice_ns = 100'000;   // virtual time each guest runs between snapshots
  std::vector<GuestLaunch> guests;
};

// `build_dir` replaces "{build}" in scenarios (the folder of the hvsim executable).
Result<LaunchPlan> plan_launch(const GuiOptions& options, const std::string& build_dir);

}  // namespace hvsim::gui
