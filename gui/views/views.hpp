#pragma once
// The views; each draws the latest snapshot into the current ImGui window.
#include "gui/ui_state.hpp"
#include "gui/view_id.hpp"

namespace hvsim::gui {

void draw_controls(ViewContext& ctx);
void draw_timeline_view(ViewContext& ctx);
void draw_code_view(ViewContext& ctx);
void draw_walk_view(ViewContext& ctx);
void draw_memory_view(ViewContext& ctx);
void draw_log_view(ViewContext& ctx);
void draw_registers_view(ViewContext& ctx);
void draw_overhead_view(ViewContext& ctx);
void draw_view(ViewId view, ViewContext& ctx);

}  // namespace hvsim::gui
