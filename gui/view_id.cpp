#include "gui/view_id.hpp"

namespace hvsim::gui {

const char* view_name(ViewId v) {
  switch (v) {
    case ViewId::Timeline: return "timeline";
    case ViewId::Code: return "code";
    case ViewId::Walk: return "walk";
    case ViewId::Memory: return "memory";
    case ViewId::Log: return "log";
    case ViewId::Registers: return "registers";
    case ViewId::Overhead: return "overhead";
  }
  return "?";
}

const char* view_title(ViewId v) {
  switch (v) {
    case ViewId::Timeline: return "Trap timeline";
    case ViewId::Code: return "Code";
    case ViewId::Walk: return "Address translation";
    case ViewId::Memory: return "Machine memory";
    case ViewId::Log: return "Event log & console";
    case ViewId::Registers: return "Registers";
    case ViewId::Overhead: return "Overhead";
  }
  return "?";
}

std::optional<ViewId> parse_view(std::string_view name) {
  for (ViewId v : kAllViews) {
    if (name == view_name(v)) return v;
  }
  return std::nullopt;
}

}  // namespace hvsim::gui
