// Machine memory: every frame of the host's pool colored by its owner (each guest's RAM, the
// VMM's tables, free), the frame the translation view's address lands on marked; below, each
// guest's guest-physical space with the isolation events that hit it, the recent ones
// flashing.
#include <algorithm>
#include <cmath>

#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

constexpr float kCell = 7.0f;

void legend(const MachineMap& map, Theme theme) {
  std::vector<std::pair<std::string, uint64_t>> sizes;
  for (const OwnerRun& r : map.runs) {
    auto it = std::find_if(sizes.begin(), sizes.end(), [&](const auto& p) { return p.first == r.owner; });
    if (it == sizes.end()) sizes.emplace_back(r.owner, r.frames);
    else it->second += r.frames;
  }
  for (const auto& [owner, frames] : sizes) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetFontSize();
    dl->AddRectFilled(p, ImVec2(p.x + h, p.y + h), owner_color(owner, theme));
    ImGui::Dummy(ImVec2(h, h));
    ImGui::SameLine();
    ImGui::Text("%s  %s MiB", owner.empty() ? "free" : owner.c_str(), with_separators(frames * kPageSize >> 20).c_str());
    ImGui::SameLine(0, h * 1.5f);
  }
  ImGui::NewLine();
}

void machine_grid(const Snapshot& s, const GuestSnapshot& g, const UiState& ui) {
  const MachineMap& map = *s.machine;
  const float width = ImGui::GetContentRegionAvail().x;
  const float height = std::max(ImGui::GetContentRegionAvail().y * 0.55f, kCell * 8);
  const auto cols = static_cast<uint64_t>(std::max(8.0f, width / kCell));
  const auto rows_fit = static_cast<uint64_t>(std::max(4.0f, height / kCell));
  const uint64_t per_cell = std::max<uint64_t>(1, (map.frames + cols * rows_fit - 1) / (cols * rows_fit));
  const uint64_t cells = (map.frames + per_cell - 1) / per_cell;
  const uint64_t rows = (cells + cols - 1) / cols;
  ImGui::Text("%s frames of 4 KiB, %s per cell", with_separators(map.frames).c_str(), with_separators(per_cell).c_str());
  concept_hint("machine_memory");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 o = ImGui::GetCursorScreenPos();
  for (uint64_t c = 0; c < cells; ++c) {
    const float x = o.x + static_cast<float>(c % cols) * kCell, y = o.y + static_cast<float>(c / cols) * kCell;
    dl->AddRectFilled(ImVec2(x, y), ImVec2(x + kCell - 1, y + kCell - 1), owner_color(map.owner_of_frame(c * per_cell), ui.theme));
  }
  // Where the translation view's address lands.
  if (g.walk.has_mpa) {
    const uint64_t c = (g.walk.mpa / kPageSize) / per_cell;
    const float x = o.x + static_cast<float>(c % cols) * kCell, y = o.y + static_cast<float>(c / cols) * kCell;
    dl->AddRect(ImVec2(x - 2, y - 2), ImVec2(x + kCell + 1, y + kCell + 1), ImGui::GetColorU32(accent_color(ui.theme)), 0, 0, 2.5f);
  }
  ImGui::InvisibleButton("machine grid", ImVec2(static_cast<float>(cols) * kCell, static_cast<float>(rows) * kCell));
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const auto c = static_cast<uint64_t>((m.y - o.y) / kCell) * cols + static_cast<uint64_t>((m.x - o.x) / kCell);
    if (c < cells) {
      const std::string& owner = map.owner_of_frame(c * per_cell);
      ImGui::SetTooltip("machine %s .. %s\n%s", hex(c * per_cell * kPageSize).c_str(),
                        hex((c + 1) * per_cell * kPageSize - 1).c_str(), owner.empty() ? "free" : owner.c_str());
    }
  }
  if (g.walk.has_mpa) {
    ImGui::TextColored(accent_color(ui.theme), "marked: %s (%s's %s) at machine %s", g.walk.mpa_owner.c_str(),
                       g.name.c_str(), hex(g.walk.query.va).c_str(), hex(g.walk.mpa).c_str());
  }
}

// One guest's guest-physical space: RAM, then what lies beyond it, with isolation hits.
void guest_physical_strip(const Snapshot& s, const GuestSnapshot& g, const UiState& ui) {
  std::vector<uint64_t> hits, recent;
  const uint64_t recent_ns = std::max<uint64_t>(g.now_ns / 20, 200'000);
  const uint64_t isolation_kind = [&] {
    for (size_t k = 0; k < s.events.kinds->size(); ++k) {
      if ((*s.events.kinds)[k] == "isolation") return k;
    }
    return size_t(UINT16_MAX);
  }();
  uint64_t top = g.ram_bytes;
  s.events.for_each([&](const EventItem& e) {
    if (e.kind != isolation_kind || e.gpa == kNoAddress || s.events.guest_name(e.guest) != g.name) return;
    hits.push_back(e.gpa);
    if (e.time_ns + recent_ns >= g.now_ns) recent.push_back(e.gpa);
    top = std::max(top, e.gpa + 1);
  });
  // Round the span up to a power of two so the scale reads well.
  uint64_t span = 1ull << 20;
  while (span < top && span < (1ull << 62)) span <<= 1;
  const float width = ImGui::GetContentRegionAvail().x;
  const auto cells = static_cast<unsigned>(std::max(16.0f, width / 3.0f));
  const auto all = bin_addresses(hits, span, cells);
  const auto fresh = bin_addresses(recent, span, cells);
  ImGui::Text("%s: guest-physical 0 .. %s  (RAM %s MiB; %zu isolation events kept)", g.name.c_str(), hex(span).c_str(),
              with_separators(g.ram_bytes >> 20).c_str(), hits.size());
  concept_hint("isolation");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 o = ImGui::GetCursorScreenPos();
  const float h = ImGui::GetFontSize() * 1.6f, cw = width / static_cast<float>(cells);
  const float pulse = 0.5f + 0.5f * std::sin(static_cast<float>(ImGui::GetTime()) * 8.0f);
  const ImU32 warn = ImGui::GetColorU32(warning_color(ui.theme));
  for (unsigned c = 0; c < cells; ++c) {
    const uint64_t at = span / cells * c;
    const float x = o.x + static_cast<float>(c) * cw;
    dl->AddRectFilled(ImVec2(x, o.y), ImVec2(x + cw, o.y + h), owner_color(at < g.ram_bytes ? g.name : "", ui.theme));
    if (all[c]) dl->AddRectFilled(ImVec2(x, o.y + h * 0.55f), ImVec2(x + cw, o.y + h), warn);
    if (fresh[c]) {
      ImVec4 f = warning_color(ui.theme);
      f.w = 0.4f + 0.6f * pulse;  // flashing: these were hit in the last moments of virtual time
      dl->AddRectFilled(ImVec2(x, o.y), ImVec2(x + cw, o.y + h), ImGui::GetColorU32(f));
    }
  }
  ImGui::Dummy(ImVec2(width, h + 4));
}

}  // namespace

void draw_memory_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (!s.machine || ui.guest >= s.guests.size()) return;
  legend(*s.machine, ui.theme);
  machine_grid(s, s.guests[ui.guest], ui);
  ImGui::Separator();
  for (const GuestSnapshot& g : s.guests) guest_physical_strip(s, g, ui);
  ImGui::TextDisabled("Red: addresses where a guest reached for memory nothing backs (isolation events); bright: recent.");
}

}  // namespace hvsim::gui
