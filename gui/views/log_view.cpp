// The event log with a filter (kind, guest, details), newest last; clicking a record with an
// address shows its translation. Beside it, each guest's console.
#include <algorithm>
#include <cstring>

#include "gui/event_words.hpp"
#include "gui/sim_thread.hpp"
#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

constexpr size_t kRowsShown = 2000;

bool contains(const std::string& text, const char* needle) {
  return !*needle || text.find(needle) != std::string::npos;
}

void event_table(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  std::vector<const EventItem*> rows;
  s.events.for_each([&](const EventItem& e) {
    if (contains(s.events.kind_name(e.kind), ui.log_filter) || contains(e.details, ui.log_filter) ||
        contains(s.events.guest_name(e.guest), ui.log_filter)) {
      rows.push_back(&e);
    }
  });
  if (rows.size() > kRowsShown) rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(kRowsShown));
  ImGui::Text("%zu shown of %s recorded", rows.size(), with_separators(s.events.total).c_str());
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_Resizable;
  if (!ImGui::BeginTable("log", 5, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("t (ns)", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 7.0f);
  ImGui::TableSetupColumn("guest", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.0f);
  ImGui::TableSetupColumn("kind", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 8.0f);
  ImGui::TableSetupColumn("rip", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 9.0f);
  ImGui::TableSetupColumn("details", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const EventItem& e = *rows[static_cast<size_t>(i)];
      const std::string& kind = s.events.kind_name(e.kind);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushID(i);
      const bool selected = ui.selected_event && *ui.selected_event == e.sequence;
      if (ImGui::Selectable(with_separators(e.time_ns).c_str(), selected, ImGuiSelectableFlags_SpanAllColumns)) {
        ui.selected_event = e.sequence;
        // An event with a linear address: show its translation in the guest it came from.
        for (size_t gi = 0; gi < s.guests.size(); ++gi) {
          if (s.guests[gi].name == s.events.guest_name(e.guest)) ui.guest = gi;
        }
        if (e.va != kNoAddress && ctx.sim) ctx.sim->select_walk(ui.guest, WalkQuery{e.va, Access::Read, 0});
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", event_in_words(kind, e.details).c_str());
      ImGui::PopID();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(s.events.guest_name(e.guest).c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kind_color(kind)), "%s", kind.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(hex(e.rip).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(e.details.c_str());
    }
  }
  // Follow the newest record unless the trainer scrolled up.
  if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1) ImGui::SetScrollHereY(1.0f);
  ImGui::EndTable();
}

void console(const Snapshot& s, const UiState& ui) {
  if (!ImGui::BeginTabBar("consoles")) return;
  for (const GuestSnapshot& g : s.guests) {
    if (!ImGui::BeginTabItem((g.name + " console").c_str())) continue;
    ImGui::TextDisabled("%s bytes printed%s", with_separators(g.console_bytes).c_str(),
                        g.console_bytes > g.console.size() ? " (the last part shown)" : "");
    ImGui::BeginChild("text", ImVec2(0, 0), true);
    ImGui::PushFont(ui.fonts.mono);
    ImGui::TextUnformatted(g.console.data(), g.console.data() + g.console.size());
    ImGui::PopFont();
    if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1) ImGui::SetScrollHereY(1.0f);
    ImGui::EndChild();
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

}  // namespace

void draw_log_view(ViewContext& ctx) {
  UiState& ui = ctx.ui;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14.0f);
  ImGui::InputTextWithHint("filter", "kind, guest or detail", ui.log_filter, sizeof ui.log_filter);
  const float half = ImGui::GetContentRegionAvail().x * 0.68f;
  ImGui::BeginChild("events", ImVec2(half, 0), false);
  event_table(ctx);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("consoles", ImVec2(0, 0), false);
  console(ctx.snap, ui);
  ImGui::EndChild();
}

}  // namespace hvsim::gui
