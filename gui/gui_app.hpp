#pragma once
// `hvsim gui`: the visualizer's entry point (docs/gui.md).
#include <string>

#include "gui/gui_options.hpp"

namespace hvsim::gui {

// Exit statuses: 0, or 2 for bad input or no display (a message on stderr says which).
constexpr int kGuiExitBadInput = 2;

// Opens the window and runs until it is closed; with a screenshot path, renders
// `options.frames` frames off screen, writes the PNG and returns.
int run_gui(const GuiOptions& options, const std::string& build_dir);

}  // namespace hvsim::gui
