#pragma once
// Everything needed to (re)build the simulated host, read once before any window opens so
// that bad input is reported as such: each guest's options, image and initrd bytes.
#include <cstdint>
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

struct LaunchPlan {
  std::string title;             // the scenario's name, or the guest file's
  PagingMode paging = PagingMode::Native;
  uint64_t slice_ns = 100'000;   // virtual time each guest runs between snapshots
  std::vector<GuestLaunch> guests;
};

// `build_dir` replaces "{build}" in scenarios (the folder of the hvsim executable).
Result<LaunchPlan> plan_launch(const GuiOptions& options, const std::string& build_dir);

}  // namespace hvsim::gui
