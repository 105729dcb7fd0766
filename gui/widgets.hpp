#pragma once
// Small drawing helpers shared by the views.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace hvsim::gui {

std::string hex(uint64_t v);
std::string with_separators(uint64_t v);  // 1'234'567 -> "1,234,567"
std::string duration_text(uint64_t ns);   // "1.25 ms", "300 ns"

// A "(?)" after the previous item whose tooltip explains a concept (concepts.cpp).
void concept_hint(std::string_view key);
// The concept's tooltip when the previous item is hovered.
void concept_tooltip(std::string_view key);
// A heading in the title font.
void heading(const char* text, ImFont* font);

}  // namespace hvsim::gui
