#include "gui/launch.hpp"

#include <filesystem>

#include "app/compare.hpp"
#include "app/initrd.hpp"
#include "app/scenario.hpp"
#include "core/vm/elf_loader.hpp"

namespace hvsim::gui {
namespace {

constexpr uint64_t kMaxFlatImage = 32ull << 20;  // the same limit as `hvsim run`
// Several guests keep the scenario's own slice, which decides how their runs interleave; one
// guest runs in short slices so the views refresh often.
constexpr uint64_t kSingleGuestSliceNs = 100'000;

Result<GuestLaunch> read_guest(MachineOptions options, const std::vector<std::string>& programs) {
  GuestLaunch g;
  const bool kernel = !options.kernel_path.empty();
  auto image = kernel ? read_file(options.kernel_path, kMaxKernelBytes) : read_file(options.image_path, kMaxFlatImage);
  if (!image) return image.error();
  g.image = std::move(*image);
  if (!programs.empty()) {
    auto files = initrd_files_from_paths(programs);
    if (!files) return files.error();
    auto packed = pack_initrd(*files);
    if (!packed) return packed.error();
    g.initrd = std::move(*packed);
  } else if (!options.initrd_path.empty()) {
    auto initrd = read_file(options.initrd_path, kMaxInitrdBytes);
    if (!initrd) return initrd.error();
    g.initrd = std::move(*initrd);
  }
  g.options = std::move(options);
  return g;
}

// The engine label asked for: the command line's, else the scenario's (vtx with its preset).
Result<std::string> engine_label(const GuiOptions& options, const Scenario* scenario) {
  std::string label = options.engine;
  if (label.empty() && scenario) {
    label = scenario->engine == "vtx" ? (scenario->preset.empty() ? "vtx-ept" : scenario->preset) : scenario->engine;
  }
  if (label.empty()) label = "native";
  if (auto choice = engine_choice(label); !choice) return choice.error();
  return label;
}

Result<EngineSetup> engine_setup(const GuiOptions& options, const Scenario* scenario) {
  auto label = engine_label(options, scenario);
  if (!label) return label.error();
  EngineSetup setup{*label, options.paging};
  if (!setup.paging && scenario && !scenario->paging.empty()) setup.paging = parse_paging_mode(scenario->paging);
  if (std::string problem = engine_setup_problem(setup); !problem.empty()) return make_error(problem);
  return setup;
}

Result<LaunchPlan> plan_scenario(const GuiOptions& options, const std::string& build_dir) {
  auto scenario = load_scenario(options.scenario_path, build_dir);
  if (!scenario) return scenario.error();
  LaunchPlan plan;
  plan.title = scenario->name;
  plan.scenario_path = options.scenario_path;
  auto setup = engine_setup(options, &*scenario);
  if (!setup) return setup.error();
  plan.setup = *setup;
  plan.slice_ns = scenario->guests.size() > 1 ? scenario->slice_us * 1000 : kSingleGuestSliceNs;
  if (plan.slice_ns == 0) plan.slice_ns = kSingleGuestSliceNs;
  for (const GuestSpec& spec : scenario->guests) {
    MachineOptions o = options.machine;
    o.name = spec.name;
    o.kernel_path = spec.kernel;
    o.image_path = spec.flat;
    o.initrd_path.clear();
    o.cmdline = spec.cmdline;
    o.ram_bytes = spec.memory_mib << 20;
    o.max_instructions = spec.max_instructions;
    o.log_path.clear();
    auto g = read_guest(std::move(o), spec.programs);
    if (!g) return make_error("guest " + spec.name + ": " + g.error().message);
    plan.guests.push_back(std::move(*g));
  }
  return plan;
}

}  // namespace

const std::vector<std::string>& engine_labels() {
  static const std::vector<std::string> labels = default_compare_engines();
  return labels;
}

std::string engine_setup_problem(const EngineSetup& setup) {
  if (!engine_choice(setup.engine)) return "unknown engine '" + setup.engine + "' (native, bt, vtx-2006, vtx-ept)";
  if (setup.engine.starts_with("vtx") && setup.paging == PagingMode::Native) {
    return "the vtx engine virtualizes memory: paging ept or shadow";
  }
  return "";
}

Result<LaunchPlan> plan_launch(const GuiOptions& options, const std::string& build_dir) {
  if (!options.scenario_path.empty()) return plan_scenario(options, build_dir);
  const MachineOptions& m = options.machine;
  if (m.image_path.empty() && m.kernel_path.empty()) return make_error("give a scenario, --flat or --kernel");
  LaunchPlan plan;
  plan.title = std::filesystem::path(m.kernel_path.empty() ? m.image_path : m.kernel_path).filename().string();
  auto setup = engine_setup(options, nullptr);
  if (!setup) return setup.error();
  plan.setup = *setup;
  MachineOptions o = m;
  o.log_path.clear();  // the visualizer watches the log in memory
  auto g = read_guest(std::move(o), {});
  if (!g) return g.error();
  plan.guests.push_back(std::move(*g));
  return plan;
}

}  // namespace hvsim::gui
