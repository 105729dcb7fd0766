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

void show_walk(ViewContext& ctx, const GuestSnapshot& g, uint64_t address) {
  if (!ctx.sim) return;
  ctx.sim->select_walk(ctx.ui.guest, WalkQuery{address, Access::Fetch, g.regs.cpl});
  ctx.ui.view = ViewId::Walk;
  ctx.ui.select_view_once = true;
}

void draw_translation(const GuestSnapshot& g, UiState& ui) {
  const TranslationView& t = g.translation;
  heading("Translation cache", ui.fonts.title);
  concept_hint("rewrite");
  switch (t.state) {
    case TranslationView::State::NotBt: return;
    case TranslationView::State::UserCode:
      ImGui::TextWrapped("%s is guest user code (CPL 3): the bt engine runs it directly, untranslated; it is "
                         "already deprivileged.", t.at_rip ? "RIP" : hex(t.guest_rip).c_str());
      return;
    case TranslationView::State::NotTranslated:
      ImGui::TextWrapped("No fragment holds the code at %s: the guest kernel has not run it yet (it is "
                         "translated when it first does), or it is user code, which bt runs directly.",
                         t.at_rip ? "RIP" : hex(t.guest_rip).c_str());
      return;
    case TranslationView::State::Translated: break;
  }
  ImGui::Text("fragment at TC %s, %u bytes, for guest [%s, %s)", hex(t.tc_address).c_str(), t.tc_size,
              hex(t.guest_begin).c_str(), hex(t.guest_end).c_str());
  if (!t.at_rip) {
    ImGui::TextDisabled("showing the instruction picked at %s; click RIP's line to follow RIP again",
                        hex(t.guest_rip).c_str());
  }
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
    const bool at_rip = l.guest_rip == g.regs.rip;
    const bool picked = !t.at_rip && l.guest_rip == t.guest_rip;
    if (at_rip || picked) {
      ImVec4 c = accent_color(ui.theme);
      c.w = at_rip ? 0.25f : 0.12f;
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
        ImGui::SetTooltip("TC %s: %s", hex(tc.tc_address).c_str(), hex_bytes(tc.bytes.data(), tc.bytes.size()).c_str());
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
    const bool picked = bt && l.address == g.translation.guest_rip && !g.translation.at_rip;
    if (ImGui::Selectable(addr.c_str(), picked, ImGuiSelectableFlags_SpanAllColumns) && ctx.sim) {
      if (bt) {  // under bt a click shows the instruction's translation beside
        ctx.sim->select_translation(ui.guest, l.at_rip ? std::nullopt : std::optional<uint64_t>(l.address));
      } else {
        show_walk(ctx, g, l.address);
      }
    }
    if (bt && ImGui::IsItemClicked(ImGuiMouseButton_Right)) show_walk(ctx, g, l.address);
    if (ImGui::IsItemHovered()) {
      ImGui::SetTooltip(bt ? "Click: show its translation beside; right-click: how this address translates"
                           : "Click: show how this address translates");
    }
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
