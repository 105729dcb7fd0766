#pragma once
// Looks that read on a projector: large fonts (DejaVu when installed, else ImGui's own font
// scaled), light and dark themes, and one color per event kind and per memory owner that
// stays the same between runs.
#include <imgui.h>

#include <string>

#include "gui/gui_options.hpp"

namespace hvsim::gui {

struct Fonts {
  ImFont* text = nullptr;
  ImFont* mono = nullptr;
  ImFont* title = nullptr;
  bool scalable = false;  // a TrueType font was found (else the built-in bitmap font)
};

// Loads the fonts at `scale` (1.0: 18-pixel text) into the current ImGui context's atlas.
Fonts load_fonts(float scale);
void apply_theme(Theme theme, float scale);

// Colors for an event kind, a memory owner ("" = free), and the state of a walk reference.
ImU32 kind_color(const std::string& kind);
ImU32 owner_color(const std::string& owner, Theme theme);
ImVec4 accent_color(Theme theme);   // highlights: changed registers, the RIP line
ImVec4 warning_color(Theme theme);  // trap points, failures
ImVec4 muted_color(Theme theme);

}  // namespace hvsim::gui
