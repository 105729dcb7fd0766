// The address-translation view: pick a linear address (or click an instruction or an isolation
// event), see every entry the MMU reads to translate it. Under EPT, the two-dimensional walk
// as a grid: one row per guest paging-structure entry (its guest-physical address through the
// four EPT levels, then the entry itself) and a row for the final address, numbered in the
// order the hardware reads them. Under shadow paging, the shadow walk and the guest walk the
// VMM makes on a miss.
#include <cstdlib>
#include <string_view>

#include "gui/sim_thread.hpp"
#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

// Blue: the VMM's tables (EPT, shadow); green: the guest's own; red: where the walk stopped.
ImU32 ref_color(RefState state, Theme theme, bool vmm_table) {
  const bool dark = theme == Theme::Dark;
  switch (state) {
    case RefState::Used:
      return vmm_table ? (dark ? IM_COL32(40, 80, 120, 255) : IM_COL32(200, 225, 250, 255))
                 : (dark ? IM_COL32(40, 100, 60, 255) : IM_COL32(205, 240, 210, 255));
    case RefState::Failed: return dark ? IM_COL32(140, 40, 40, 255) : IM_COL32(250, 200, 200, 255);
    case RefState::Unused: break;
  }
  return 0;
}

// One reference in a table cell: its number, where it is, the entry and its rights.
void ref_cell(const WalkRef& r, unsigned& number, Theme theme, const char* owner, const Fonts& fonts) {
  if (r.state == RefState::Unused) {
    ImGui::TextDisabled("-");
    return;
  }
  const bool vmm_table = std::string_view(owner) != "guest";
  ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, ref_color(r.state, theme, vmm_table));
  ImGui::Text("%u. %s %s", ++number, owner, table_name(r.level));
  ImGui::PushFont(fonts.mono);
  ImGui::Text("@%s", hex(r.entry_address).c_str());
  ImGui::Text("%016llx", static_cast<unsigned long long>(r.entry));
  ImGui::PopFont();
  ImGui::TextUnformatted(r.rights.c_str());
}

void address_picker(ViewContext& ctx, const GuestSnapshot& g) {
  UiState& ui = ctx.ui;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12.0f);
  ImGui::InputTextWithHint("##va", "linear address, 0x...", ui.walk_address, sizeof ui.walk_address);
  ImGui::SameLine();
  ImGui::RadioButton("read", &ui.walk_access, 0);
  ImGui::SameLine();
  ImGui::RadioButton("write", &ui.walk_access, 1);
  ImGui::SameLine();
  ImGui::RadioButton("fetch", &ui.walk_access, 2);
  ImGui::SameLine();
  if (ImGui::Button("Translate") && ctx.sim) {
    char* end = nullptr;
    const uint64_t va = std::strtoull(ui.walk_address, &end, 0);
    if (end && end != ui.walk_address && *end == '\0') {
      const Access access = ui.walk_access == 1 ? Access::Write : ui.walk_access == 2 ? Access::Fetch : Access::Read;
      ctx.sim->select_walk(ui.guest, WalkQuery{va, access, g.regs.cpl});
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Follow RIP") && ctx.sim) ctx.sim->select_walk(ui.guest, std::nullopt);
}

void ept_grid(const WalkLayout& w, const UiState& ui) {
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchSame;
  if (!ImGui::BeginTable("ept grid", 6, flags)) return;
  ImGui::TableSetupColumn("guest step", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 10.0f);
  for (const char* c : {"EPT PML4", "EPT PDPT", "EPT PD", "EPT PT", "guest entry"}) ImGui::TableSetupColumn(c);
  ImGui::TableHeadersRow();
  unsigned number = 0;
  for (const WalkRow& row : w.rows) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.title.c_str());
    ImGui::TextDisabled("gpa %s", hex(row.gpa).c_str());
    for (const WalkRef& r : row.ept) {
      ImGui::TableNextColumn();
      ref_cell(r, number, ui.theme, "EPT", ui.fonts);
    }
    ImGui::TableNextColumn();
    if (!row.final_row) ref_cell(row.guest, number, ui.theme, "guest", ui.fonts);
    else if (w.has_mpa) ImGui::Text("-> machine\n%s", hex(w.mpa).c_str());
  }
  ImGui::EndTable();
}

void one_dimension(const char* id, const std::vector<WalkRef>& refs, const char* owner, const char* where,
                   const UiState& ui) {
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchSame;
  if (refs.empty() || !ImGui::BeginTable(id, static_cast<int>(refs.size()), flags)) return;
  unsigned number = 0;
  ImGui::TableNextRow();
  for (const WalkRef& r : refs) {
    ImGui::TableNextColumn();
    ref_cell(r, number, ui.theme, owner, ui.fonts);
  }
  ImGui::EndTable();
  ImGui::TextDisabled("entries at %s addresses", where);
}

std::vector<WalkRef> guest_refs(const WalkLayout& w) {
  std::vector<WalkRef> refs;
  for (const WalkRow& r : w.rows) {
    if (!r.final_row && r.guest.state != RefState::Unused) refs.push_back(r.guest);
  }
  return refs;
}

}  // namespace

void draw_walk_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  const WalkLayout& w = g.walk;
  address_picker(ctx, g);
  if (!w.valid) return;
  ImGui::PushFont(ui.fonts.title);
  ImGui::Text("%s: %s (%s, CPL %u) with %s paging", g.name.c_str(), hex(w.query.va).c_str(),
              access_name(w.query.access), w.query.cpl, paging_mode_name(w.mode));
  ImGui::PopFont();
  ImGui::Text("CR3 %s", hex(w.cr3).c_str());
  concept_hint("tlb_fill");
  if (w.mode == PagingMode::Ept) {
    ImGui::SameLine();
    ImGui::Text("   the two-dimensional walk");
    concept_hint("ept_walk");
    ept_grid(w, ui);
  } else if (w.mode == PagingMode::Shadow) {
    ImGui::Text("What the MMU walks: the VMM's shadow tables (%s)", w.shadow_hit ? "hit" : "miss");
    concept_hint("shadow");
    if (w.shadow.empty()) ImGui::TextDisabled("No shadow root for this CR3 yet.");
    one_dimension("shadow walk", w.shadow, "shadow", "machine", ui);
    ImGui::Text("What the VMM walks on a miss: the guest's own tables");
    concept_hint("hidden_fault");
    one_dimension("guest walk", guest_refs(w), "guest", "guest-physical", ui);
  } else {
    ImGui::Text("The guest's 4-level walk (no hypervisor in the way)");
    one_dimension("guest walk", guest_refs(w), "guest", "guest-physical", ui);
  }
  ImGui::Separator();
  ImGui::Text("%s", w.outcome.c_str());
  if (w.ok || w.has_mpa) {
    ImGui::Text("rights: read %s, write %s, execute %s", w.can_read ? "yes" : "no", w.can_write ? "yes" : "no",
                w.can_exec ? "yes" : "no");
  }
  if (w.has_mpa) {
    ImGui::PushFont(ui.fonts.title);
    ImGui::TextColored(accent_color(ui.theme), "machine address %s, owned by %s", hex(w.mpa).c_str(), w.mpa_owner.c_str());
    ImGui::PopFont();
    concept_tooltip("machine_memory");
  }
  if (!w.note.empty()) ImGui::TextWrapped("%s", w.note.c_str());
  if (!w.failure.empty()) {
    ImGui::TextColored(warning_color(ui.theme), "%s", w.failure.c_str());
    if (w.failure.rfind("EPT violation", 0) == 0) concept_tooltip("ept_violation");
    else if (w.failure.rfind("EPT misconfiguration", 0) == 0) concept_tooltip("ept_misconfig");
    else if (w.failure.find("true page fault") != std::string::npos) concept_tooltip("true_fault");
  }
  if (w.mode == PagingMode::Shadow && w.shadow_hit) {
    ImGui::Text("%u memory references for this TLB fill: a shadow hit; the VMM walks the guest's tables only on a miss",
                w.references);
  } else {
    ImGui::Text("%u memory references for this TLB fill", w.references);
  }
}

}  // namespace hvsim::gui
