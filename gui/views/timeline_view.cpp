// The trap timeline: virtual time across, one lane per event kind, each bin shaded by how many
// events fell in it; hover a bin for its events, click to select one and read it in words;
// the counters beside it.
#include <algorithm>
#include <array>
#include <cmath>

#include "gui/concepts.hpp"
#include "gui/event_words.hpp"
#include "gui/snapshot.hpp"
#include "gui/timeline.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

constexpr std::array<uint64_t, 7> kSpans = {10'000, 100'000, 1'000'000, 2'000'000, 10'000'000, 100'000'000,
                                            1'000'000'000};
constexpr float kBinPixels = 4.0f;

ImU32 shade(ImU32 color, float strength) {
  ImVec4 c = ImGui::ColorConvertU32ToFloat4(color);
  c.w = 0.25f + 0.75f * strength;
  return ImGui::ColorConvertFloat4ToU32(c);
}

std::optional<uint16_t> guest_index(const EventWindow& events, const std::string& name) {
  for (size_t i = 0; i < events.guests->size(); ++i) {
    if ((*events.guests)[i] == name) return static_cast<uint16_t>(i);
  }
  return std::nullopt;
}

// Events of one lane in one bin, oldest first, at most `limit`.
std::vector<const EventItem*> events_in_bin(const EventWindow& events, std::optional<uint16_t> guest, uint16_t kind,
                                            uint64_t from, uint64_t to, size_t limit) {
  std::vector<const EventItem*> out;
  events.for_each([&](const EventItem& e) {
    if (out.size() >= limit || e.kind != kind || (guest && e.guest != *guest)) return;
    if (e.time_ns >= from && e.time_ns < to) out.push_back(&e);
  });
  return out;
}

const EventItem* find_event(const EventWindow& events, uint64_t sequence) {
  const EventItem* found = nullptr;
  events.for_each([&](const EventItem& e) {
    if (e.sequence == sequence) found = &e;
  });
  return found;
}

// Wide enough for the longest lane name.
float lane_label_width(const EventWindow& events) {
  float w = ImGui::GetFontSize() * 9.0f;
  for (const std::string& kind : *events.kinds) {
    w = std::max(w, ImGui::CalcTextSize(kind.c_str()).x + ImGui::GetFontSize() * 0.6f);
  }
  return w;
}

void draw_lanes(ViewContext& ctx, const TimelineBins& bins, std::optional<uint16_t> guest, float label_w) {
  const Snapshot& s = ctx.snap;
  const float lane_h = ImGui::GetFontSize() * 1.8f;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float plot_w = static_cast<float>(bins.bins) * kBinPixels;
  const ImU32 grid = ImGui::GetColorU32(ImGuiCol_Border);
  for (size_t li = 0; li < bins.lanes.size(); ++li) {
    const TimelineLane& lane = bins.lanes[li];
    const float y = origin.y + static_cast<float>(li) * lane_h;
    ImGui::SetCursorScreenPos(ImVec2(origin.x, y + lane_h * 0.2f));
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kind_color(lane.name)), "%s", lane.name.c_str());
    if (const Concept* c = concept_for_event(lane.name)) concept_tooltip(c->key);
    const float x0 = origin.x + label_w;
    dl->AddRect(ImVec2(x0, y + 2), ImVec2(x0 + plot_w, y + lane_h - 2), grid);
    for (unsigned b = 0; b < bins.bins; ++b) {
      if (!lane.counts[b]) continue;
      // Log scale: one event must show, a thousand must not drown it.
      const float strength = std::log1p(static_cast<float>(lane.counts[b])) /
                             std::log1p(static_cast<float>(std::max<uint32_t>(bins.max_count, 1)));
      const float bx = x0 + static_cast<float>(b) * kBinPixels;
      dl->AddRectFilled(ImVec2(bx, y + 4), ImVec2(bx + kBinPixels, y + lane_h - 4), shade(kind_color(lane.name), strength));
    }
    // Hover and click.
    ImGui::SetCursorScreenPos(ImVec2(x0, y));
    ImGui::InvisibleButton(("lane" + std::to_string(li)).c_str(), ImVec2(std::max(plot_w, 1.0f), lane_h));
    if (ImGui::IsItemHovered()) {
      const float mx = ImGui::GetIO().MousePos.x - x0;
      const auto b = static_cast<unsigned>(std::clamp(mx / kBinPixels, 0.0f, static_cast<float>(bins.bins - 1)));
      const uint64_t from = bins.bin_start(b), to = bins.bin_start(b + 1);
      auto items = events_in_bin(s.events, guest, lane.kind, from, to, 6);
      ImGui::BeginTooltip();
      ImGui::Text("%s: %u in %s .. %s", lane.name.c_str(), lane.counts[b], duration_text(from).c_str(),
                  duration_text(to).c_str());
      for (const EventItem* e : items) {
        ImGui::Text("t=%s rip=%s %s", with_separators(e->time_ns).c_str(), hex(e->rip).c_str(), e->details.c_str());
      }
      ImGui::EndTooltip();
      if (ImGui::IsItemClicked() && !items.empty()) ctx.ui.selected_event = items.front()->sequence;
    }
  }
  // Time axis.
  const float axis_y = origin.y + static_cast<float>(bins.lanes.size()) * lane_h + 2;
  ImGui::SetCursorScreenPos(ImVec2(origin.x + label_w, axis_y));
  ImGui::TextDisabled("%s", duration_text(bins.t0).c_str());
  const std::string end = duration_text(bins.t1) + " (now)";
  ImGui::SetCursorScreenPos(ImVec2(origin.x + label_w + plot_w - ImGui::CalcTextSize(end.c_str()).x, axis_y));
  ImGui::TextDisabled("%s", end.c_str());
  ImGui::SetCursorScreenPos(ImVec2(origin.x, axis_y + ImGui::GetFontSize() * 1.6f));
}

void counter_row(const char* name, uint64_t value, const char* tip = nullptr) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(name);
  if (tip && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(with_separators(value).c_str());
}

void draw_counters(const Snapshot& s, const GuestSnapshot& g) {
  if (!ImGui::BeginTable("counters", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) return;
  ImGui::TableSetupColumn("counter");
  ImGui::TableSetupColumn("value");
  ImGui::TableHeadersRow();
  for (const auto& [kind, n] : s.counts_by_kind) counter_row(("log: " + kind).c_str(), n, "event-log records of this kind, all guests");
  counter_row("exceptions delivered", g.vm.exceptions_delivered);
  counter_row("interrupts delivered", g.vm.interrupts_delivered);
  counter_row("system calls", g.vm.syscalls);
  counter_row("port I/O", g.vm.port_io);
  counter_row("trap points hit", g.cpu.trap_points_hit, "instructions stopped before they ran, for the VMM to handle");
  counter_row("instructions emulated", g.vm.instructions_emulated);
  counter_row("TLB fills", g.cpu.tlb_fills);
  counter_row("blocks scanned", g.cpu.blocks_scanned);
  for (const auto& [name, value] : g.engine_counts) {
    counter_row(name.c_str(), value, "counted by the engine (docs/cost-model.md names each)");
  }
#define HVSIM_GUI_MEM_ROW(name, what) \
  if (g.mem.name) counter_row(#name, g.mem.name, what);
  HVSIM_MEM_COUNTERS(HVSIM_GUI_MEM_ROW)
#undef HVSIM_GUI_MEM_ROW
  ImGui::EndTable();
}

}  // namespace

void draw_timeline_view(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7.0f);
  if (ImGui::BeginCombo("window", duration_text(ui.timeline_span_ns).c_str())) {
    for (uint64_t span : kSpans) {
      if (ImGui::Selectable(duration_text(span).c_str(), span == ui.timeline_span_ns)) ui.timeline_span_ns = span;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Text("of %s's virtual time; %s events recorded, %zu kept", g.name.c_str(),
              with_separators(s.events.total).c_str(), s.events.size());
  concept_hint("virtual_time");

  const float counters_w = ImGui::GetFontSize() * 19.0f;
  const float label_w = lane_label_width(s.events);
  const float avail = ImGui::GetContentRegionAvail().x - counters_w - label_w - ImGui::GetFontSize();
  const auto nbins = static_cast<unsigned>(std::max(16.0f, avail / kBinPixels));
  const std::optional<uint16_t> guest = guest_index(s.events, g.name);
  const TimelineBins bins = bin_timeline(s.events, guest ? guest : std::optional<uint16_t>(UINT16_MAX),
                                         window_start(g.now_ns, ui.timeline_span_ns), g.now_ns, nbins);

  ImGui::BeginChild("lanes", ImVec2(-counters_w, 0), false);
  if (bins.lanes.empty()) ImGui::TextDisabled("No events yet: the guest has not faulted, been interrupted or trapped.");
  draw_lanes(ctx, bins, guest, label_w);
  ImGui::Separator();
  if (ui.selected_event) {
    if (const EventItem* e = find_event(s.events, *ui.selected_event)) {
      const std::string& kind = s.events.kind_name(e->kind);
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kind_color(kind)), "%s", kind.c_str());
      ImGui::SameLine();
      ImGui::Text("at %s ns, %s, rip %s", with_separators(e->time_ns).c_str(), s.events.guest_name(e->guest).c_str(),
                  hex(e->rip).c_str());
      ImGui::TextWrapped("%s", event_in_words(kind, e->details).c_str());
      ImGui::TextDisabled("%s", e->details.c_str());
    } else {
      ImGui::TextDisabled("The selected event is no longer kept.");
    }
  } else {
    ImGui::TextDisabled("Hover a lane for its events; click to select one.");
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("counters", ImVec2(0, 0), false);
  draw_counters(s, g);
  ImGui::EndChild();
}

}  // namespace hvsim::gui
