#include "gui/views/views.hpp"

namespace hvsim::gui {

void draw_view(ViewId view, ViewContext& ctx) {
  switch (view) {
    case ViewId::Timeline: draw_timeline_view(ctx); break;
    case ViewId::Code: draw_code_view(ctx); break;
    case ViewId::Walk: draw_walk_view(ctx); break;
    case ViewId::Memory: draw_memory_view(ctx); break;
    case ViewId::Log: draw_log_view(ctx); break;
    case ViewId::Registers: draw_registers_view(ctx); break;
    case ViewId::Overhead: draw_overhead_view(ctx); break;
  }
}

}  // namespace hvsim::gui
