// The toolbar: run, pause, step, reset (with the engine and paging to reset into), speed, which guest the
// views show, theme and text size, and where the simulation is.
#include <array>

#include "gui/sim_thread.hpp"
#include "gui/views/views.hpp"
#include "gui/widgets.hpp"

namespace hvsim::gui {
namespace {

struct Speed {
  const char* label;
  double virtual_per_wall;
};
constexpr std::array<Speed, 6> kSpeeds = {{{"full speed", 0.0},
                                           {"100 ms per second", 1e-1},
                                           {"10 ms per second", 1e-2},
                                           {"1 ms per second", 1e-3},
                                           {"100 us per second", 1e-4},
                                           {"10 us per second", 1e-5}}};

const char* paging_label(const std::optional<PagingMode>& paging) {
  return paging ? paging_mode_name(*paging) : "engine's";
}

void paging_combo(UiState& ui) {
  const std::optional<PagingMode> modes[] = {std::nullopt, PagingMode::Native, PagingMode::Ept, PagingMode::Shadow};
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.5f);
  if (ImGui::BeginCombo("paging", paging_label(ui.reset_setup.paging))) {
    for (const auto& m : modes) {
      EngineSetup candidate{ui.reset_setup.engine, m};
      const bool possible = engine_setup_problem(candidate).empty();
      ImGui::BeginDisabled(!possible);
      if (ImGui::Selectable(paging_label(m), m == ui.reset_setup.paging)) ui.reset_setup.paging = m;
      ImGui::EndDisabled();
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip("How guest memory reaches machine memory; takes effect at Reset. \"engine's\": the engine's "
                      "own choice (shadow for bt, the vtx preset's).");
  }
}

void engine_combo(UiState& ui) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.5f);
  if (ImGui::BeginCombo("engine", ui.reset_setup.engine.c_str())) {
    for (const std::string& label : engine_labels()) {
      if (ImGui::Selectable(label.c_str(), label == ui.reset_setup.engine)) {
        ui.reset_setup.engine = label;
        // vtx cannot run without memory virtualization: fall back to the engine's choice.
        if (!engine_setup_problem(ui.reset_setup).empty()) ui.reset_setup.paging.reset();
      }
    }
    ImGui::EndCombo();
  }
  concept_tooltip("engines");
}

}  // namespace

void draw_controls(ViewContext& ctx) {
  const Snapshot& s = ctx.snap;
  UiState& ui = ctx.ui;
  SimThread* sim = ctx.sim;
  const bool running = s.mode == SimMode::Running;
  ImGui::BeginDisabled(running || s.mode == SimMode::Ended);
  if (ImGui::Button("Run") && sim) sim->run();
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!running);
  if (ImGui::Button("Pause") && sim) sim->pause();
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(s.mode == SimMode::Ended);
  if (ImGui::Button("Step") && sim) sim->step();
  concept_tooltip("step");
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Reset") && sim) sim->reset(ui.reset_setup);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Rebuild the host with the engine and paging beside, paused at the start.");
  ImGui::SameLine();
  engine_combo(ui);
  ImGui::SameLine();
  paging_combo(ui);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9.5f);
  if (ImGui::BeginCombo("speed", kSpeeds[static_cast<size_t>(ui.speed_index)].label)) {
    for (size_t i = 0; i < kSpeeds.size(); ++i) {
      if (ImGui::Selectable(kSpeeds[i].label, static_cast<int>(i) == ui.speed_index)) {
        ui.speed_index = static_cast<int>(i);
        if (sim) sim->set_speed(kSpeeds[i].virtual_per_wall);
      }
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Virtual time shown per second of wall-clock time.");
  if (s.guests.size() > 1) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7.0f);
    const char* current = ui.guest < s.guests.size() ? s.guests[ui.guest].name.c_str() : "?";
    if (ImGui::BeginCombo("guest", current)) {
      for (size_t i = 0; i < s.guests.size(); ++i) {
        if (ImGui::Selectable(s.guests[i].name.c_str(), i == ui.guest)) ui.guest = i;
      }
      ImGui::EndCombo();
    }
  }
  ImGui::SameLine();
  if (ImGui::Button(ui.theme == Theme::Dark ? "Light" : "Dark")) {
    ui.theme = ui.theme == Theme::Dark ? Theme::Light : Theme::Dark;
    ui.theme_changed = true;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.0f);
  ImGui::SliderFloat("text", &ui.zoom, 0.75f, 2.0f, "%.2fx");

  // Where the simulation is.
  if (!s.error.empty()) {
    ImGui::TextColored(warning_color(ui.theme), "cannot build the host: %s", s.error.c_str());
    return;
  }
  if (ui.guest >= s.guests.size()) return;
  const GuestSnapshot& g = s.guests[ui.guest];
  ImGui::Text("%s  |  %s  |  engine %s, paging %s  |  %s: %s instructions, %s virtual", s.title.c_str(),
              sim_mode_name(s.mode), s.setup.engine.c_str(), paging_mode_name(s.paging), g.name.c_str(), with_separators(g.instructions).c_str(),
              duration_text(g.now_ns).c_str());
  concept_tooltip("virtual_time");
  if (g.ended) {
    ImGui::SameLine();
    ImGui::TextColored(accent_color(ui.theme), "  %s", g.end_text.c_str());
  }
}

}  // namespace hvsim::gui
