// The overhead view: `hvsim compare` as a bar chart. Per program one bar per engine, modeled
// cycles per iteration on a log scale (as Figure 4 of Adams & Agesen), the paper's figure for
// that technique as a tick, the ratio to native, and whether the fastest virtual technique is
// the paper's. The numbers come from a compare JSON file or are measured from here.
#include <cstdio>

#include "app/compare.hpp"
#include "gui/overhead.hpp"
#include "gui/overhead_source.hpp"
#include "gui/snapshot.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

constexpr const char* kProfiles[] = {"p4-2006", "core2-2006", "sandybridge-2011"};

std::string cycles_text(double c) {
  char b[48];
  if (c >= 1e6) {
    std::snprintf(b, sizeof b, "%.2fM", c / 1e6);
  } else if (c >= 100) {
    return with_separators(static_cast<uint64_t>(c + 0.5));
  } else {
    std::snprintf(b, sizeof b, "%.1f", c);
  }
  return b;
}

std::string decade_text(double d) {
  if (d >= 1e6) return std::to_string(static_cast<uint64_t>(d / 1e6)) + "M";
  if (d >= 1e3) return std::to_string(static_cast<uint64_t>(d / 1e3)) + "k";
  return std::to_string(static_cast<uint64_t>(d));
}

void draw_measure_controls(ViewContext& ctx, const OverheadSource::State& st) {
  UiState& ui = ctx.ui;
  OverheadSource* source = ctx.overhead;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9.0f);
  if (ImGui::BeginCombo("profile", kProfiles[ui.overhead_profile])) {
    for (int i = 0; i < 3; ++i) {
      if (ImGui::Selectable(kProfiles[i], i == ui.overhead_profile)) ui.overhead_profile = i;
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("The machine whose cycle costs price the events (docs/cost-model.md).");
  ImGui::SameLine();
  const bool possible = source && source->can_measure() && !st.measuring;
  ImGui::BeginDisabled(!possible);
  if (ImGui::Button("Measure this scenario") && possible) {
    source->measure(default_compare_engines(), kProfiles[ui.overhead_profile]);
  }
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
    ImGui::SetTooltip("%s", source && source->can_measure()
                                ? "Runs hvsim compare on this scenario under every engine, each program twice "
                                  "(N and 2N iterations), off the screen's thread; it takes seconds to minutes."
                                : "Measuring needs a scenario (hvsim gui SCENARIO); load a result with --compare.");
  }
  ImGui::SameLine();
  if (st.measuring) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - st.started);
    ImGui::TextColored(accent_color(ui.theme), "measuring... %llds", static_cast<long long>(secs.count()));
  } else if (!st.origin.empty()) {
    ImGui::TextDisabled("from %s", st.origin.c_str());
  }
  if (!st.error.empty()) ImGui::TextColored(warning_color(ui.theme), "measurement failed: %s", st.error.c_str());
}

void draw_group(const OverheadChart& chart, const OverheadGroup& g, UiState& ui, float label_w, float plot_w) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float bar_h = ImGui::GetFontSize() * 1.15f;
  const float gap = ImGui::GetFontSize() * 0.25f;
  ImGui::PushFont(ui.fonts.title);
  ImGui::TextUnformatted(g.program.c_str());
  ImGui::PopFont();
  if (g.verdict) {
    ImGui::SameLine();
    const std::string ours = g.verdict->ours.empty() ? "?" : g.verdict->ours;
    const ImVec4 c = g.verdict->matches ? accent_color(ui.theme) : warning_color(ui.theme);
    ImGui::TextColored(c, "  fastest virtual: %s, paper: %s  %s", ours.c_str(), g.verdict->paper.c_str(),
                       g.verdict->matches ? "(as in the paper)" : "(differs)");
    if (ImGui::IsItemHovered() && !g.verdict->note.empty()) ImGui::SetTooltip("%s", g.verdict->note.c_str());
  }
  for (const OverheadBar& b : g.bars) {
    const OverheadRow& r = *b.row;
    const ImVec2 at = ImGui::GetCursorScreenPos();
    ImGui::TextUnformatted(b.engine.c_str());
    const ImVec2 p0(at.x + label_w, at.y);
    const ImVec2 p1(p0.x + std::max(2.0f, b.length * plot_w), at.y + bar_h);
    dl->AddRectFilled(p0, p1, engine_color(b.engine));
    if (b.paper_tick) {
      const float x = p0.x + *b.paper_tick * plot_w;
      const ImU32 tick = ImGui::ColorConvertFloat4ToU32(ImGui::GetStyle().Colors[ImGuiCol_Text]);
      dl->AddLine(ImVec2(x, at.y - 2), ImVec2(x, at.y + bar_h + 2), tick, 3.0f);
    }
    std::string label = cycles_text(r.cycles);
    if (r.ratio > 0 && r.engine != "native") {
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "  %.1fx", r.ratio);
      label += ratio;
    }
    if (r.paper_cycles) {
      label += "   (paper " + cycles_text(*r.paper_cycles);
      if (r.paper_ratio && r.engine != "native") {
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, ", %.1fx", *r.paper_ratio);
        label += ratio;
      }
      label += ")";
    }
    const ImVec2 text_at(p0.x + plot_w + ImGui::GetFontSize() * 0.5f, at.y);
    dl->AddText(text_at, ImGui::ColorConvertFloat4ToU32(ImGui::GetStyle().Colors[ImGuiCol_Text]), label.c_str());
    ImGui::SetCursorScreenPos(at);
    ImGui::InvisibleButton(("##" + g.program + b.engine).c_str(), ImVec2(label_w + plot_w, bar_h));
    if (ImGui::IsItemHovered()) {
      std::string tip = g.program + " under " + b.engine + ": " + cycles_text(r.cycles) +
                        " modeled cycles per iteration";
      if (r.iterations) tip += " (measured over " + with_separators(r.iterations) + " iterations)";
      tip += "\nlargest costs:";
      for (const auto& [component, cycles] : r.top_terms) tip += "\n  " + component + ": " + cycles_text(cycles);
      if (r.paper_cycles) tip += "\nThe tick is Adams & Agesen's figure for this technique.";
      ImGui::SetTooltip("%s", tip.c_str());
    }
    ImGui::SetCursorScreenPos(ImVec2(at.x, at.y + bar_h + gap));
  }
  ImGui::Dummy(ImVec2(0, gap * 2));
  (void)chart;
}

void draw_scale(const OverheadChart& chart, float label_w, float plot_w, float top, float bottom) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float x0 = ImGui::GetWindowPos().x + ImGui::GetCursorStartPos().x + label_w - ImGui::GetScrollX();
  ImVec4 grid = ImGui::GetStyle().Colors[ImGuiCol_Text];
  grid.w = 0.2f;
  for (double d : chart.decades()) {
    const float x = x0 + chart.position(d) * plot_w;
    dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), ImGui::ColorConvertFloat4ToU32(grid));
    dl->AddText(ImVec2(x + 3, top), ImGui::ColorConvertFloat4ToU32(ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]),
                decade_text(d).c_str());
  }
}

}  // namespace

void draw_overhead_view(ViewContext& ctx) {
  UiState& ui = ctx.ui;
  const OverheadSource::State st = ctx.overhead ? ctx.overhead->state() : OverheadSource::State{};
  draw_measure_controls(ctx, st);
  concept_hint("overhead");
  if (!st.data) {
    ImGui::TextWrapped("No comparison yet. Measure this scenario (nanobench and forkwait are the paper's "
                       "workloads), or start with --compare FILE from `hvsim compare SCENARIO --json FILE`.");
    return;
  }
  const OverheadData& d = *st.data;
  ImGui::Text("%s, priced as %s (%s): modeled cycles per iteration, log scale; | the paper's figure",
              d.scenario.c_str(), d.profile.c_str(), d.machine.c_str());
  for (const std::string& e : d.engines) {
    ImGui::SameLine();
    ImGui::ColorButton(("##c" + e).c_str(), ImGui::ColorConvertU32ToFloat4(engine_color(e)),
                       ImGuiColorEditFlags_NoTooltip, ImVec2(ImGui::GetFontSize(), ImGui::GetFontSize()));
    ImGui::SameLine();
    ImGui::TextUnformatted(e.c_str());
  }
  const OverheadChart chart = chart_overhead(d);
  ImGui::BeginChild("overhead_chart", ImVec2(0, 0), false);
  const float label_w = ImGui::GetFontSize() * 6.0f;
  const float plot_w = std::max(200.0f, ImGui::GetContentRegionAvail().x - label_w - ImGui::GetFontSize() * 20.0f);
  const float top = ImGui::GetCursorScreenPos().y;
  ImGui::Dummy(ImVec2(0, ImGui::GetFontSize()));  // the scale's labels
  for (const OverheadGroup& g : chart.groups) draw_group(chart, g, ui, label_w, plot_w);
  draw_scale(chart, label_w, plot_w, top, ImGui::GetCursorScreenPos().y);
  for (const std::string& n : d.notes) ImGui::TextWrapped("%s", n.c_str());
  ImGui::EndChild();
}

}  // namespace hvsim::gui
