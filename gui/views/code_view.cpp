// Guest code around RIP: each instruction with its bytes, the current one marked, trap points
// highlighted with the trap kind and whether the engine's policy stops there. Clicking an
// instruction shows how its address translates.
#include "gui/sim_thread.hpp"
#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {

void draw_code_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  ImGui::Text("%s at rip %s, CPL %u", g.name.c_str(), hex(g.regs.rip).c_str(), g.regs.cpl);
  concept_hint("cpl");
  ImGui::SameLine();
  ImGui::TextColored(warning_color(ui.theme), "   trap point");
  concept_tooltip("trap_point");
  ImGui::SameLine();
  ImGui::TextColored(accent_color(ui.theme), "   next to run");
  if (g.code.empty()) {
    ImGui::TextDisabled("No code is readable at RIP (not mapped in the guest's tables).");
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("code", 4, flags)) return;
  ImGui::TableSetupColumn("address", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 12.0f);
  ImGui::TableSetupColumn("bytes", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 14.0f);
  ImGui::TableSetupColumn("instruction", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn("what the VMM does", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 16.0f);
  ImGui::TableHeadersRow();
  ImGui::PushFont(ui.fonts.mono);
  for (const DisasmLine& l : g.code) {
    ImGui::TableNextRow();
    if (l.at_rip) {
      ImVec4 c = accent_color(ui.theme);
      c.w = 0.25f;
      ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, ImGui::ColorConvertFloat4ToU32(c));
    }
    ImGui::TableNextColumn();
    const std::string addr = (l.at_rip ? "> " : "  ") + hex(l.address);
    if (ImGui::Selectable(addr.c_str(), false, ImGuiSelectableFlags_SpanAllColumns) && ctx.sim) {
      ctx.sim->select_walk(ui.guest, WalkQuery{l.address, Access::Fetch, g.regs.cpl});
      ui.view = ViewId::Walk;
      ui.select_view_once = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Click: show how this address translates");
    ImGui::TableNextColumn();
    ImGui::TextDisabled("%s", l.bytes.c_str());
    ImGui::TableNextColumn();
    if (l.trap) {
      ImGui::TextColored(warning_color(ui.theme), "%s", l.text.c_str());
    } else {
      ImGui::TextUnformatted(l.text.c_str());
    }
    ImGui::TableNextColumn();
    if (l.trap) {
      ImGui::PushFont(ui.fonts.text);
      ImGui::TextColored(warning_color(ui.theme), "%s: %s", trap_kind_name(*l.trap),
                         l.trapped ? "trapped, emulated" : "runs natively");
      concept_tooltip("trap_point");
      ImGui::PopFont();
    }
  }
  ImGui::PopFont();
  ImGui::EndTable();
}

}  // namespace hvsim::gui
