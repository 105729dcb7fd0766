#include "gui/widgets.hpp"

#include <cstdio>

#include "gui/concepts.hpp"

namespace hvsim::gui {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string with_separators(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string duration_text(uint64_t ns) {
  char buf[32];
  if (ns < 10'000) {
    std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 10'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f us", static_cast<double>(ns) / 1e3);
  } else if (ns < 10'000'000'000ull) {
    std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

void concept_tooltip(std::string_view key) {
  const Concept* c = find_concept(key);
  if (!c || !ImGui::IsItemHovered()) return;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
  ImGui::TextUnformatted(c->title.data(), c->title.data() + c->title.size());
  ImGui::Separator();
  ImGui::TextUnformatted(c->text.data(), c->text.data() + c->text.size());
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void concept_hint(std::string_view key) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  concept_tooltip(key);
}

void heading(const char* text, ImFont* font) {
  if (font) ImGui::PushFont(font);
  ImGui::TextUnformatted(text);
  if (font) ImGui::PopFont();
}

}  // namespace hvsim::gui
