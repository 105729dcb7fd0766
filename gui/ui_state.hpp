#pragma once
// What the trainer chose on screen (which guest, which event, filters, zoom): the UI
// thread's own state, never seen by the simulation.
#include <cstdint>
#include <optional>
#include <string>

#include "core/mem/paging_mode.hpp"
#include "gui/gui_options.hpp"
#include "gui/launch.hpp"
#include "gui/theme.hpp"
#include "gui/view_id.hpp"

namespace hvsim::gui {

class SimThread;

struct UiState {
  ViewId view = ViewId::Timeline;
  bool select_view_once = true;      // the tab bar opens on `view` once
  size_t guest = 0;                  // the guest the views show
  Theme theme = Theme::Dark;
  float scale = 1.0f;                // the fonts were loaded at this scale
  float zoom = 1.0f;                 // live text zoom on top of it (io.FontGlobalScale)
  Fonts fonts;
  int speed_index = 0;               // into kSpeeds (sim_controls)
  EngineSetup reset_setup;           // the engine and paging Reset builds
  uint64_t timeline_span_ns = 2'000'000;
  std::optional<uint64_t> selected_event;  // sequence number
  char log_filter[128] = "";
  char walk_address[32] = "";
  int walk_access = 0;               // 0 read, 1 write, 2 fetch
  bool theme_changed = false;
  int overhead_profile = 0;          // into the overhead view's profiles
};

// Everything a view draws from: the latest snapshot, the UI state, the simulation to command.
struct Snapshot;
struct ViewContext {
  const Snapshot& snap;
  UiState& ui;
  SimThread* sim;  // null in tests
  class OverheadSource* overhead = nullptr;  // the overhead view's numbers (null: none)
};

}  // namespace hvsim::gui
