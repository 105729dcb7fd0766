#include "gui/gui_app.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <cstdio>

#include "gui/frame.hpp"
#include "gui/gl_window.hpp"
#include "gui/launch.hpp"
#include "gui/offscreen_target.hpp"
#include "gui/overhead_source.hpp"
#include "gui/screenshot.hpp"
#include "gui/sim_thread.hpp"
#include "gui/theme.hpp"
#include "gui/ui_state.hpp"

namespace hvsim::gui {
namespace {

// A screenshot without --pause-at-us shows the guest this far into its run, so the picture
// is the same every time.
constexpr uint64_t kScreenshotDefaultPauseNs = 2'000'000;
constexpr auto kBuildTimeout = std::chrono::seconds(60);
constexpr auto kReachTimeout = std::chrono::seconds(60);

int fail(const std::string& message) {
  std::fprintf(stderr, "hvsim: gui: %s\n", message.c_str());
  return kGuiExitBadInput;
}

void setup_looks(UiState& ui, GlWindow& window, bool fonts_too) {
  if (fonts_too) {
    ui.fonts = load_fonts(ui.scale);
    window.rebuild_fonts();
  }
  apply_theme(ui.theme, ui.scale);
}


void print_summary(const Snapshot& s, const GuiOptions& options) {
  for (const GuestSnapshot& g : s.guests) {
    std::fprintf(stderr, "hvsim: gui: %s: %s at %llu instructions, %llu ns virtual, %llu events, %llu slices%s%s\n",
                 s.title.c_str(), g.name.c_str(), static_cast<unsigned long long>(g.instructions),
                 static_cast<unsigned long long>(g.now_ns), static_cast<unsigned long long>(s.events.total),
                 static_cast<unsigned long long>(s.slices), g.ended ? "; " : "", g.ended ? g.end_text.c_str() : "");
  }
  if (!options.screenshot_path.empty()) {
    std::fprintf(stderr, "hvsim: gui: wrote %s (%dx%d, view %s, %d frames)\n", options.screenshot_path.c_str(),
                 options.width, options.height, view_name(options.view), options.frames);
  }
}

}  // namespace

int run_gui(const GuiOptions& options, const std::string& build_dir) {
  if (options.frames < 1) return fail("--frames must be at least 1");
  if (options.width < 320 || options.height < 240 || options.width > 8192 || options.height > 8192) {
    return fail("the window must be between 320x240 and 8192x8192");
  }
  if (!(options.scale >= 0.5f && options.scale <= 4.0f)) return fail("--scale must be between 0.5 and 4");
  auto plan = plan_launch(options, build_dir);
  if (!plan) return fail(plan.error().message);
  const bool headless = !options.screenshot_path.empty();
  OverheadSource overhead(plan->scenario_path, build_dir);
  if (!options.compare_path.empty()) {
    if (auto loaded = overhead.load(options.compare_path); !loaded) return fail("--compare " + loaded.error().message);
  }

  SimStart start;
  start.setup = plan->setup;
  start.paused = options.start_paused;
  start.pause_at_ns = options.pause_at_ns ? options.pause_at_ns : headless ? kScreenshotDefaultPauseNs : 0;
  if (options.walk_va) start.walk = WalkQuery{*options.walk_va, Access::Read, 0};
  SimThread sim(std::move(*plan), start);
  auto first = sim.wait_for([](const Snapshot&) { return true; }, kBuildTimeout);
  if (!first) return fail("the simulation did not start");
  if (!first->error.empty()) return fail(first->error);

  auto window = GlWindow::open("hvsim: " + first->title, options.width, options.height, !headless);
  if (!window) return fail(window.error().message);
  std::unique_ptr<OffscreenTarget> target;
  if (headless) {
    auto t = OffscreenTarget::create(options.width, options.height);
    if (!t) return fail(t.error().message);
    target = std::move(*t);
    // The picture shows the guest where it was asked to be: paused there, or ended.
    sim.wait_for([](const Snapshot& s) { return s.mode != SimMode::Running; }, kReachTimeout);
  }

  UiState ui;
  ui.view = options.view;
  ui.theme = options.theme;
  ui.scale = options.scale;
  ui.reset_setup = first->setup;
  setup_looks(ui, **window, true);

  std::shared_ptr<const Snapshot> snap = first;
  for (int frame = 0; headless ? frame < options.frames : !(*window)->should_close(); ++frame) {
    if (auto latest = sim.latest()) snap = latest;
    if (ui.theme_changed) {
      setup_looks(ui, **window, false);
      ui.theme_changed = false;
    }
    (*window)->begin_frame();
    ImGuiIO& io = ImGui::GetIO();
    int fb_w = options.width, fb_h = options.height;
    if (headless) {
      io.DisplaySize = ImVec2(static_cast<float>(options.width), static_cast<float>(options.height));
      io.DisplayFramebufferScale = ImVec2(1, 1);
    } else {
      (*window)->framebuffer_size(fb_w, fb_h);
    }
    io.FontGlobalScale = ui.zoom;
    ImGui::NewFrame();
    ViewContext ctx{*snap, ui, &sim, &overhead};
    draw_frame(ctx, io.DisplaySize.x, io.DisplaySize.y);
    ImGui::Render();
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    if (target) {
      target->bind();
      target->clear(bg.x, bg.y, bg.z);
    } else {
      glViewport(0, 0, fb_w, fb_h);
      glClearColor(bg.x, bg.y, bg.z, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
    }
    (*window)->render();
    if (!headless) (*window)->present();
  }
  if (headless) {
    auto written = write_png(options.screenshot_path, target->read_rgba(), options.width, options.height);
    if (!written) return fail(written.error().message);
  }
  if (auto latest = sim.latest()) snap = latest;
  print_summary(*snap, options);
  target.reset();  // before the window's context goes
  return 0;
}

}  // namespace hvsim::gui
