// Registers, with the ones the last step (or the last slice) changed highlighted, and the
// control bits decoded.
#include <algorithm>
#include <cstring>
#include <string>

#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

struct Bit {
  uint64_t mask;
  const char* name;
};

std::string bits_text(uint64_t v, std::initializer_list<Bit> bits) {
  std::string s;
  for (const Bit& b : bits) {
    if (v & b.mask) s += std::string(s.empty() ? "" : " ") + b.name;
  }
  return s;
}

std::string decoded(const char* name, uint64_t v) {
  if (!std::strcmp(name, "rflags")) {
    return bits_text(v, {{rflags::CF, "CF"}, {rflags::ZF, "ZF"}, {rflags::SF, "SF"}, {rflags::OF, "OF"},
                         {rflags::IF, "IF"}, {rflags::DF, "DF"}, {rflags::TF, "TF"}, {rflags::AC, "AC"}}) +
           " IOPL=" + std::to_string(rflags::iopl(v));
  }
  if (!std::strcmp(name, "cr0")) {
    return bits_text(v, {{cr0::PE, "PE"}, {cr0::WP, "WP"}, {cr0::PG, "PG"}, {cr0::TS, "TS"}, {cr0::NE, "NE"}});
  }
  if (!std::strcmp(name, "cr4")) {
    return bits_text(v, {{cr4::PAE, "PAE"}, {cr4::PGE, "PGE"}, {cr4::TSD, "TSD"}, {cr4::OSFXSR, "OSFXSR"},
                         {cr4::SMEP, "SMEP"}, {cr4::SMAP, "SMAP"}});
  }
  if (!std::strcmp(name, "efer")) {
    return bits_text(v, {{efer::SCE, "SCE"}, {efer::LME, "LME"}, {efer::LMA, "LMA"}, {efer::NXE, "NXE"}});
  }
  if (!std::strcmp(name, "cr8")) return "task priority class " + std::to_string(v);
  if (!std::strcmp(name, "cr3")) return "guest page-table root";
  if (!std::strcmp(name, "cr2")) return "last page-fault address";
  if (!std::strcmp(name, "cpl")) return v == 0 ? "kernel" : v == 3 ? "user" : "";
  return "";
}

}  // namespace

void draw_registers_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  const auto changed = g.has_prev ? changed_registers(g.prev_regs, g.regs) : std::vector<const char*>{};
  ImGui::Text("%s after %s instructions", g.name.c_str(), with_separators(g.instructions).c_str());
  ImGui::SameLine();
  ImGui::TextColored(accent_color(ui.theme), "   changed by the last step or slice: %zu", changed.size());
  const auto now = register_list(g.regs);
  const auto before = register_list(g.prev_regs);
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("registers", 4, flags)) return;
  ImGui::TableSetupColumn("register", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6.0f);
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 12.0f);
  ImGui::TableSetupColumn("before", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 12.0f);
  ImGui::TableSetupColumn("meaning", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < now.size(); ++i) {
    const bool was_changed = std::find_if(changed.begin(), changed.end(), [&](const char* n) {
                               return !std::strcmp(n, now[i].name);
                             }) != changed.end();
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(now[i].name);
    if (!std::strcmp(now[i].name, "cpl")) concept_tooltip("cpl");
    ImGui::TableNextColumn();
    ImGui::PushFont(ui.fonts.mono);
    char value[24];
    std::snprintf(value, sizeof value, "%016llx", static_cast<unsigned long long>(now[i].value));
    if (was_changed) {
      ImGui::TextColored(accent_color(ui.theme), "%s", value);
    } else {
      ImGui::TextUnformatted(value);
    }
    ImGui::TableNextColumn();
    if (was_changed) {
      std::snprintf(value, sizeof value, "%016llx", static_cast<unsigned long long>(before[i].value));
      ImGui::TextDisabled("%s", value);
    }
    ImGui::PopFont();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(decoded(now[i].name, now[i].value).c_str());
  }
  ImGui::EndTable();
}

}  // namespace hvsim::gui
