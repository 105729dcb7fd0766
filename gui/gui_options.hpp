#pragma once
// What `hvsim gui` was asked to show and how (docs/gui.md).
#include <cstdint>
#include <optional>
#include <string>

#include "app/machine_builder.hpp"
#include "gui/view_id.hpp"

namespace hvsim::gui {

enum class Theme : uint8_t { Dark, Light };

struct GuiOptions {
  std::string scenario_path;          // a scenario, or a guest given by `machine`
  MachineOptions machine;             // --flat / --kernel / --initrd / --cmdline / --ept-pages
  std::optional<PagingMode> paging;   // overrides the scenario's
  std::string engine;                 // native, bt, vtx-2006, vtx-ept; empty: the scenario's, else native
  std::string compare_path;           // a `hvsim compare --json` file for the overhead view
  ViewId view = ViewId::Timeline;
  std::string screenshot_path;        // non-empty: render headless, write a PNG, exit
  int frames = 3;
  int width = 1600, height = 900;
  float scale = 1.0f;
  Theme theme = Theme::Dark;
  std::optional<uint64_t> walk_va;    // the address the translation view shows (default: RIP)
  uint64_t pause_at_ns = 0;           // pause when the guest's virtual time reaches this (0: never)
  bool start_paused = false;
};

}  // namespace hvsim::gui
