// Guest code around RIP: each instruction with its bytes, the current one marked, trap points
// highlighted with the trap kind and whether the engine's policy stops there. Clicking an
// instruction shows how its address translates. Under bt, the translation-cache fragment that
// runs the code at RIP beside it: each guest instruction, its rewrite, the code it became.
#include <cstdio>

#include "gui/sim_thread.hpp"
#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {

void draw_guest_code(ViewContext& ctx, const GuestSnapshot& g);

namespace {

std::string bytes_text(const std::vector<uint8_t>& bytes) {
  std::string out;
  char b[4];
  for (uint8_t v : bytes) {
    std::snprintf(b, sizeof b, "%02x ", v);
    out += b;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

void draw_translation(const GuestSnapshot& g, UiState& ui) {
  const TranslationView& t = g.translation;
  heading("Translation cache", ui.fonts.title);
  concept_hint("rewrite");
  switch (t.state) {
    case TranslationView::State::NotBt: return;
    case TranslationView::State::UserCode:
      ImGui::TextWrapped("RIP is in guest user code (CPL 3): the bt engine runs it directly, untranslated; "
                         "it is already deprivileged.");
      return;
    case TranslationView::State::NotTranslated:
      ImGui::TextWrapped("No fragment holds the kernel code at RIP yet: it is translated when the vCPU first "
                         "runs it.");
      return;
    case TranslationView::State::Translated: break;
  }
  ImGui::Text("fragment at TC %s, %u bytes, for guest [%s, %s)", hex(t.tc_address).c_str(), t.tc_size,
              hex(t.guest_begin).c_str(), hex(t.guest_end).c_str());
  if (t.stale) {
    ImGui::TextColored(warning_color(ui.theme),
                       "The guest changed this code since it was translated: the fragment is dropped at the "
                       "next stop.");
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("translation", 3, flags)) return;
  ImGui::TableSetupColumn("guest instruction", ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn("rewrite", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 7.0f);
  ImGui::TableSetupColumn("translation-cache code", ImGuiTableColumnFlags_WidthStretch, 1.4f);
  ImGui::TableHeadersRow();
  for (const bt::ExplainLine& l : t.lines) {
    ImGui::TableNextRow();
    const bool at_rip = l.guest_rip == t.guest_rip;
    if (at_rip) {
      ImVec4 c = accent_color(ui.theme);
      c.w = 0.25f;
      ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, ImGui::ColorConvertFloat4ToU32(c));
    }
    const bool changed = l.rewrite != bt::Rewrite::Ident;
    const bool callout = l.rewrite == bt::Rewrite::Callout;
    ImGui::TableNextColumn();
    ImGui::PushFont(ui.fonts.mono);
    ImGui::TextDisabled("%s%s", at_rip ? "> " : "  ", hex(l.guest_rip).c_str());
    if (callout) {
      ImGui::TextColored(warning_color(ui.theme), "%s", l.guest_text.c_str());
    } else {
      ImGui::TextUnformatted(l.guest_text.c_str());
    }
    ImGui::PopFont();
    ImGui::TableNextColumn();
    if (callout) {
      ImGui::TextColored(warning_color(ui.theme), "%s", bt::rewrite_name(l.rewrite));
    } else if (changed) {
      ImGui::TextColored(accent_color(ui.theme), "%s", bt::rewrite_name(l.rewrite));
    } else {
      ImGui::TextDisabled("%s", bt::rewrite_name(l.rewrite));
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", l.why.c_str());
    ImGui::TableNextColumn();
    ImGui::PushFont(ui.fonts.mono);
    for (const bt::TcLine& tc : l.translation) {
      ImGui::TextUnformatted(tc.text.c_str());
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("TC %s: %s", hex(tc.tc_address).c_str(), bytes_text(tc.bytes).c_str());
      }
    }
    ImGui::PopFont();
  }
  ImGui::EndTable();
}

}  // namespace

void draw_code_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  const bool translated = g.translation.state != TranslationView::State::NotBt;
  if (translated) {
    // Guest code on the left, its translation on the right.
    ImGui::BeginChild("guest_code", ImVec2(ImGui::GetContentRegionAvail().x * 0.48f, 0), false);
  }
  ImGui::Text("%s at rip %s, CPL %u", g.name.c_str(), hex(g.regs.rip).c_str(), g.regs.cpl);
  concept_hint("cpl");
  ImGui::SameLine();
  ImGui::TextColored(warning_color(ui.theme), "   trap point");
  concept_tooltip("trap_point");
  ImGui::SameLine();
  ImGui::TextColored(accent_color(ui.theme), "   next to run");
  draw_guest_code(ctx, g);
  if (!translated) return;
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("tc_code", ImVec2(0, 0), false);
  draw_translation(g, ui);
  ImGui::EndChild();
}

void draw_guest_code(ViewContext& ctx, const GuestSnapshot& g) {
  UiState& ui = ctx.ui;
  if (g.code.empty()) {
    ImGui::TextDisabled("No code is readable at RIP (not mapped in the guest's tables).");
    return;
  }
  const bool bt = g.translation.state != TranslationView::State::NotBt;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("code", bt ? 3 : 4, flags)) return;
  ImGui::TableSetupColumn("address", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 12.0f);
  if (!bt) ImGui::TableSetupColumn("bytes", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 14.0f);
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
    if (!bt) {
      ImGui::TableNextColumn();
      ImGui::TextDisabled("%s", l.bytes.c_str());
    }
    ImGui::TableNextColumn();
    if (l.trap) {
      ImGui::TextColored(warning_color(ui.theme), "%s", l.text.c_str());
    } else {
      ImGui::TextUnformatted(l.text.c_str());
    }
    ImGui::TableNextColumn();
    if (l.trap) {
      ImGui::PushFont(ui.fonts.text);
      const char* what = bt ? (g.regs.cpl == 3 ? (l.trapped ? "trapped, emulated" : "runs directly")
                                               : "translated (beside)")
                            : (l.trapped ? "trapped, emulated" : "runs natively");
      ImGui::TextColored(warning_color(ui.theme), "%s: %s", trap_kind_name(*l.trap), what);
      concept_tooltip("trap_point");
      ImGui::PopFont();
    }
  }
  ImGui::PopFont();
  ImGui::EndTable();
}

}  // namespace hvsim::gui
