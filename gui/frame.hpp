#pragma once
// One frame of the visualizer: the toolbar above, the views as tabs below, filling the window.
#include "gui/ui_state.hpp"

namespace hvsim::gui {

void draw_frame(ViewContext& ctx, float width, float height);

}  // namespace hvsim::gui
