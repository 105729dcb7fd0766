// hvsim command line. Exceptions stop here; the core reports errors as values.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "app/initrd.hpp"
#include "app/compare.hpp"
#include "app/machine_builder.hpp"
#include "app/scenario.hpp"
#include "core/vm/elf_loader.hpp"
#include "core/vm/host.hpp"
#include "hwassist/vtx_engine.hpp"
#include "translator/bt_engine.hpp"
#include "app/state_dump.hpp"
#include "app/walk_report.hpp"
#include "app/translate_report.hpp"
#include "gui/gui_app.hpp"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitTripleFault = 120;
constexpr int kExitHaltedForever = 121;
constexpr int kExitBudget = 122;
constexpr int kExitHostError = 123;
constexpr int kExitExceptionStorm = 124;
constexpr uint64_t kMaxFlatImage = 32ull << 20;

int exit_status_for(hvsim::RunEnd end) {
  switch (end) {
    case hvsim::RunEnd::Exited: return 0;
    case hvsim::RunEnd::TripleFault: return kExitTripleFault;
    case hvsim::RunEnd::HaltedForever: return kExitHaltedForever;
    case hvsim::RunEnd::BudgetExhausted: return kExitBudget;
    case hvsim::RunEnd::Stopped: return 0;
    case hvsim::RunEnd::HostError: return kExitHostError;
    case hvsim::RunEnd::ExceptionStorm: return kExitExceptionStorm;
    case hvsim::RunEnd::SliceEnded: return kExitHostError;  // never the end of a run
  }
  return kExitHostError;
}

// hvsim's lines about a finished guest, on stderr; returns its exit status (docs/flat-guests.md).
int print_summary(hvsim::Vm& vm, const hvsim::RunOutcome& out, bool quiet) {
  using namespace hvsim;
  const auto& c = vm.counters();
  int status = out.end == RunEnd::Exited ? out.exit_status : static_cast<int>(exit_status_for(out.end));
  if (!quiet || out.end != RunEnd::Exited) {
    std::fprintf(stderr,
                 "hvsim: %s %s (exit status %d) after %llu instructions, %llu ns virtual; "
                 "%llu exceptions, %llu interrupts, %llu syscalls, %llu port I/O, %llu trap points\n",
                 vm.config().name.c_str(), run_end_name(out.end), status,
                 static_cast<unsigned long long>(vm.cpu().instructions_retired()),
                 static_cast<unsigned long long>(vm.now_ns()),
                 static_cast<unsigned long long>(c.exceptions_delivered),
                 static_cast<unsigned long long>(c.interrupts_delivered),
                 static_cast<unsigned long long>(c.syscalls), static_cast<unsigned long long>(c.port_io),
                 static_cast<unsigned long long>(vm.cpu().counters().trap_points_hit));
  }
  if ((!quiet || out.end != RunEnd::Exited) && vm.config().paging != PagingMode::Native) {
    const MemCounters& m = vm.mmu().counters();
    std::fprintf(stderr,
                 "hvsim: %s paging: %llu fills, %llu walk references, %llu hidden faults, %llu true faults, "
                 "%llu page-table write traces, %llu shadow root switches, %llu EPT violations, %llu isolation events\n",
                 paging_mode_name(vm.config().paging), static_cast<unsigned long long>(m.fills),
                 static_cast<unsigned long long>(m.walk_references), static_cast<unsigned long long>(m.hidden_faults),
                 static_cast<unsigned long long>(m.true_faults), static_cast<unsigned long long>(m.pt_write_traces),
                 static_cast<unsigned long long>(m.shadow_root_switches),
                 static_cast<unsigned long long>(m.ept_violations), static_cast<unsigned long long>(m.isolation_events));
  }
  if (auto* vtx = dynamic_cast<vmx::VtxEngine*>(&vm.engine()); vtx && (!quiet || out.end != RunEnd::Exited)) {
    vmx::ExitCounts e = vtx->exits(vm);
    std::string line;
    for (unsigned r = 0; r < vmx::kExitReasonSlots; ++r) {
      if (e.by_reason[r]) line += std::string(line.empty() ? "" : ", ") + vmx::exit_reason_name(r) + " " + std::to_string(e.by_reason[r]);
    }
    std::fprintf(stderr, "hvsim: %s vtx (%s): %llu VM exits: %s\n", vm.config().name.c_str(), vtx->preset().name.c_str(),
                 static_cast<unsigned long long>(e.total), line.c_str());
  }
  if (auto* bt = dynamic_cast<bt::BtEngine*>(&vm.engine()); bt && (!quiet || out.end != RunEnd::Exited)) {
    const bt::BtCounters b = bt->counters();
    const bt::TranslatorCounters& t = bt->translator_counters();
    std::string kinds;
    for (size_t k = 0; k < bt::kCalloutKindCount; ++k) {
      if (b.callouts_by_kind[k]) {
        kinds += std::string(kinds.empty() ? "" : ", ") + bt::callout_kind_name(static_cast<bt::CalloutKind>(k)) + " " +
                 std::to_string(b.callouts_by_kind[k]);
      }
    }
    std::fprintf(stderr,
                 "hvsim: %s bt: %llu guest instructions translated into %llu fragments; %llu callouts (%s); "
                 "%llu emulated in the cache; %llu chained, %llu indirect lookups (%llu missed the cache), "
                 "%llu kernel entries, %llu trampolines, %llu code writes (%llu fragments dropped), %llu flushes\n",
                 vm.config().name.c_str(), static_cast<unsigned long long>(t.guest_instructions),
                 static_cast<unsigned long long>(t.fragments), static_cast<unsigned long long>(b.callouts), kinds.c_str(),
                 static_cast<unsigned long long>(b.in_cache_emulations), static_cast<unsigned long long>(b.chained), static_cast<unsigned long long>(b.indirect_lookups),
                 static_cast<unsigned long long>(b.indirect_misses), static_cast<unsigned long long>(b.kernel_entries), static_cast<unsigned long long>(b.trampolines),
                 static_cast<unsigned long long>(b.code_writes), static_cast<unsigned long long>(b.invalidations),
                 static_cast<unsigned long long>(b.flushes));
    if (b.pt_write_faults || b.adaptations) {
      std::fprintf(stderr,
                   "hvsim: %s bt adaptive: %llu page-table stores taken as faults, %llu stores retranslated into "
                   "callouts (%llu back), %llu adapted stores hit page tables, %llu hit other pages\n",
                   vm.config().name.c_str(), static_cast<unsigned long long>(b.pt_write_faults),
                   static_cast<unsigned long long>(b.adaptations), static_cast<unsigned long long>(b.adaptations_undone),
                   static_cast<unsigned long long>(b.adapted_writes), static_cast<unsigned long long>(b.adapted_misses));
    }
  }
  if (out.end == RunEnd::TripleFault) {
    std::printf("hvsim: triple fault: the guest could not deliver a double fault\n");
  } else if (out.end == RunEnd::HostError) {
    std::fprintf(stderr, "hvsim: host error: %s\n", out.detail.c_str());
  } else if (out.end == RunEnd::HaltedForever && !out.detail.empty()) {
    std::fprintf(stderr, "hvsim: halted forever: %s\n", out.detail.c_str());
  } else if (out.end == RunEnd::ExceptionStorm) {
    std::fprintf(stderr, "hvsim: exception storm: %s (a handler that faults on its own first instruction?)\n",
                 out.detail.c_str());
  }
  return status;
}

// Reads the guest's files and builds its machine; a message on stderr and null on bad input.
std::unique_ptr<hvsim::Machine> load_machine(const hvsim::MachineOptions& opt,
                                             const std::vector<uint8_t>* initrd_bytes = nullptr) {
  using namespace hvsim;
  const bool kernel = !opt.kernel_path.empty();
  auto image = kernel ? read_file(opt.kernel_path, kMaxKernelBytes) : read_file(opt.image_path, kMaxFlatImage);
  if (!image) {
    std::fprintf(stderr, "hvsim: %s\n", image.error().message.c_str());
    return nullptr;
  }
  Result<std::vector<uint8_t>> initrd = initrd_bytes ? *initrd_bytes : std::vector<uint8_t>{};
  if (!opt.initrd_path.empty()) initrd = read_file(opt.initrd_path, kMaxInitrdBytes);
  if (!initrd) {
    std::fprintf(stderr, "hvsim: %s\n", initrd.error().message.c_str());
    return nullptr;
  }
  auto machine = build_machine(opt, *image, *initrd);
  if (!machine) {
    std::fprintf(stderr, "hvsim: %s\n", machine.error().message.c_str());
    return nullptr;
  }
  return std::move(*machine);
}

// Runs one guest; its console goes to stdout (and into `console` when given), hvsim's own
// messages to stderr. Returns hvsim's exit status (docs/flat-guests.md).
int run_guest(const hvsim::MachineOptions& opt, const std::string& engine, const std::string& dump_path, bool quiet,
              const std::vector<uint8_t>* initrd_bytes = nullptr, std::string* console = nullptr,
              std::string* paging_used = nullptr) {
  using namespace hvsim;
  MachineOptions with_engine = opt;
  with_engine.engine = engine;
  auto machine = load_machine(with_engine, initrd_bytes);
  if (!machine) return kExitBadInput;
  Vm& vm = *machine->vm;
  if (paging_used) *paging_used = paging_mode_name(vm.config().paging);
  // Line-buffered: a guest that hangs or is killed still shows what it printed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  constexpr size_t kConsoleCapture = 16u << 20;
  vm.set_console([console](char c) {
    std::fputc(c, stdout);
    if (console && console->size() < kConsoleCapture) console->push_back(c);
  });
  RunOutcome out = vm.run();
  std::fflush(stdout);
  if (!dump_path.empty()) {
    std::ofstream f(dump_path);
    f << dump_state_json(vm.cpu());
    if (!f) {
      std::fprintf(stderr, "hvsim: cannot write '%s'\n", dump_path.c_str());
      return kExitBadInput;
    }
  }
  return print_summary(vm, out, quiet);
}

std::string build_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// A guest's initrd packed from the scenario's program list.
hvsim::Result<std::vector<uint8_t>> scenario_initrd(const hvsim::GuestSpec& g) {
  using namespace hvsim;
  if (g.programs.empty()) return std::vector<uint8_t>{};
  auto files = initrd_files_from_paths(g.programs);
  if (!files) return files.error();
  return pack_initrd(*files);
}

hvsim::MachineOptions guest_options(const hvsim::GuestSpec& g, hvsim::MachineOptions opt) {
  opt.name = g.name;
  opt.kernel_path = g.kernel;
  opt.image_path = g.flat;
  opt.cmdline = g.cmdline;
  opt.ram_bytes = g.memory_mib << 20;
  if (!opt.max_instructions) opt.max_instructions = g.max_instructions;
  return opt;
}

int report_verdict(const hvsim::Scenario& s, const hvsim::GuestSpec& g, int status, const std::string& console) {
  hvsim::ScenarioVerdict v = hvsim::check_guest(g, status, console);
  for (const auto& f : v.failures) {
    if (s.guests.size() == 1) std::fprintf(stderr, "hvsim: scenario %s failed: %s\n", s.name.c_str(), f.c_str());
    else std::fprintf(stderr, "hvsim: scenario %s, guest %s failed: %s\n", s.name.c_str(), g.name.c_str(), f.c_str());
  }
  return v.passed;
}

// Several guests on one host: RAM from one machine pool, one event log, each guest's console
// lines prefixed with its name, a slice of virtual time each in turn.
int run_host_scenario(const hvsim::Scenario& s, const std::string& engine, const hvsim::MachineOptions& opt,
                      const std::string& dump_path, bool quiet) {
  using namespace hvsim;
  uint64_t pool_bytes = 0;
  for (const auto& g : s.guests) pool_bytes += machine_bytes_for(g.memory_mib << 20);
  MachineMemory pool(pool_bytes);
  std::unique_ptr<EventLog> log = std::make_unique<EventLog>();
  if (!opt.log_path.empty()) {
    auto opened = EventLog::open(opt.log_path);
    if (!opened) {
      std::fprintf(stderr, "hvsim: %s\n", opened.error().message.c_str());
      return kExitBadInput;
    }
    log = std::move(*opened);
  }
  std::vector<std::unique_ptr<Machine>> machines;
  std::vector<std::string> consoles(s.guests.size());
  std::vector<bool> at_line_start(s.guests.size(), true);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Host host(s.slice_us * 1000);
  for (size_t i = 0; i < s.guests.size(); ++i) {
    const GuestSpec& g = s.guests[i];
    MachineOptions o = guest_options(g, opt);
    o.engine = engine;
    auto image = g.kernel.empty() ? read_file(g.flat, kMaxFlatImage) : read_file(g.kernel, kMaxKernelBytes);
    auto initrd = scenario_initrd(g);
    if (!image || !initrd) {
      std::fprintf(stderr, "hvsim: scenario %s, guest %s: %s\n", s.name.c_str(), g.name.c_str(),
                   (!image ? image.error() : initrd.error()).message.c_str());
      return kExitBadInput;
    }
    auto m = build_guest(pool, *log, o, *image, *initrd);
    if (!m) {
      std::fprintf(stderr, "hvsim: scenario %s, guest %s: %s\n", s.name.c_str(), g.name.c_str(), m.error().message.c_str());
      return kExitBadInput;
    }
    std::string prefix = g.name + ": ";
    (*m)->vm->set_console([&consoles, &at_line_start, i, prefix](char c) {
      if (at_line_start[i]) std::fputs(prefix.c_str(), stdout);
      std::fputc(c, stdout);
      at_line_start[i] = c == '\n';
      if (consoles[i].size() < (16u << 20)) consoles[i].push_back(c);
    });
    host.add(*(*m)->vm);
    machines.push_back(std::move(*m));
  }
  std::vector<RunOutcome> outcomes = host.run();
  std::fflush(stdout);
  if (!dump_path.empty()) {  // one object per guest, by name
    std::ofstream f(dump_path);
    f << "{";
    for (size_t i = 0; i < machines.size(); ++i) {
      f << (i ? ",\n" : "\n") << "\"" << s.guests[i].name << "\": " << dump_state_json(machines[i]->vm->cpu());
    }
    f << "\n}\n";
    if (!f) {
      std::fprintf(stderr, "hvsim: cannot write '%s'\n", dump_path.c_str());
      return kExitBadInput;
    }
  }
  bool all_passed = true;
  for (size_t i = 0; i < s.guests.size(); ++i) {
    int status = print_summary(*machines[i]->vm, outcomes[i], quiet);
    all_passed &= report_verdict(s, s.guests[i], status, consoles[i]) != 0;
  }
  if (!all_passed) return 1;
  std::fprintf(stderr, "hvsim: scenario %s passed (%zu guests, engine %s, paging %s)\n", s.name.c_str(), s.guests.size(),
               engine.c_str(), paging_mode_name(machines[0]->vm->config().paging));
  return 0;
}

int run_scenario(const std::string& path, const std::string& engine_override,
                 std::optional<hvsim::PagingMode> paging_override, hvsim::MachineOptions opt,
                 const std::string& dump_path, bool quiet) {
  using namespace hvsim;
  auto scenario = load_scenario(path, build_dir());
  if (!scenario) {
    std::fprintf(stderr, "hvsim: %s\n", scenario.error().message.c_str());
    return kExitBadInput;
  }
  const Scenario& s = *scenario;
  if (paging_override) {
    opt.paging = *paging_override;
    opt.paging_given = true;
  } else if (!s.paging.empty()) {
    opt.paging = *parse_paging_mode(s.paging);
    opt.paging_given = true;
  }
  if (opt.preset.empty()) opt.preset = s.preset;
  const std::string engine = engine_override.empty() ? s.engine : engine_override;
  if (s.guests.size() > 1) {
    return run_host_scenario(s, engine, opt, dump_path, quiet);
  }
  const GuestSpec& g = s.guests[0];
  opt = guest_options(g, opt);
  auto initrd = scenario_initrd(g);
  if (!initrd) {
    std::fprintf(stderr, "hvsim: scenario '%s': %s\n", path.c_str(), initrd.error().message.c_str());
    return kExitBadInput;
  }
  std::string console;
  std::string paging_used = paging_mode_name(opt.paging);
  int status = run_guest(opt, engine, dump_path, quiet, &*initrd, &console, &paging_used);
  if (status == kExitBadInput && console.empty()) return status;
  if (!report_verdict(s, g, status, console)) return 1;
  std::fprintf(stderr, "hvsim: scenario %s passed (engine %s, paging %s)\n", s.name.c_str(),
               (engine + (opt.preset.empty() || engine != "vtx" ? "" : " " + opt.preset)).c_str(), paging_used.c_str());
  return 0;
}

// `hvsim walk`: run a guest to a point, then show how one linear address translates.
int walk_command(const std::string& scenario_path, hvsim::MachineOptions opt, uint64_t at, uint64_t va,
                 const std::string& access_name_arg, int cpl_arg) {
  using namespace hvsim;
  std::vector<uint8_t> initrd;
  if (!scenario_path.empty()) {
    auto scenario = load_scenario(scenario_path, build_dir());
    if (!scenario) {
      std::fprintf(stderr, "hvsim: %s\n", scenario.error().message.c_str());
      return kExitBadInput;
    }
    if (scenario->guests.size() != 1) {
      std::fprintf(stderr, "hvsim: walk takes a scenario with one guest\n");
      return kExitBadInput;
    }
    const PagingMode paging = opt.paging;
    opt = guest_options(scenario->guests[0], opt);
    opt.paging = paging;
    auto packed = scenario_initrd(scenario->guests[0]);
    if (!packed) {
      std::fprintf(stderr, "hvsim: %s\n", packed.error().message.c_str());
      return kExitBadInput;
    }
    initrd = std::move(*packed);
  }
  opt.max_instructions = at;
  auto machine = load_machine(opt, &initrd);
  if (!machine) return kExitBadInput;
  Vm& vm = *machine->vm;
  vm.set_console([](char) {});
  RunOutcome out = at ? vm.run() : RunOutcome{RunEnd::BudgetExhausted, 0, ""};
  if (out.end != RunEnd::BudgetExhausted && out.end != RunEnd::Exited) {
    std::fprintf(stderr, "hvsim: the guest ended before the walk: %s\n", run_end_name(out.end));
  }
  const Access access = access_name_arg == "write" ? Access::Write : access_name_arg == "fetch" ? Access::Fetch : Access::Read;
  const unsigned cpl = cpl_arg < 0 ? vm.cpu().cpl() : static_cast<unsigned>(cpl_arg);
  std::fputs(walk_report(vm, va, access, cpl).c_str(), stdout);
  return 0;
}

// `hvsim gui`: its options, kept apart from the other subcommands' (docs/gui.md).
struct GuiArgs {
  hvsim::gui::GuiOptions options;
  std::string paging, view = "timeline", size = "1600x900", theme = "dark", ept_pages = "4k";
  uint64_t va = 0, pause_at_us = 0;
  CLI::Option* va_option = nullptr;
};

CLI::App* add_gui_command(CLI::App& app, GuiArgs& a) {
  auto* gui = app.add_subcommand("gui", "the visualizer: watch a guest's traps, address translations and memory");
  gui->footer("Examples:\n  hvsim gui scenarios/isolation.toml\n"
              "  hvsim gui scenarios/nanobench.toml --engine bt --view code\n"
              "  hvsim gui scenarios/boot.toml --paging ept --view walk --screenshot walk.png --frames 3\n"
              "  hvsim compare scenarios/nanobench.toml --json nb.json && hvsim gui scenarios/nanobench.toml "
              "--compare nb.json --view overhead");
  hvsim::gui::GuiOptions& o = a.options;
  auto* s = gui->add_option("scenario", o.scenario_path, "scenario file (docs/scenarios.md)");
  auto* flat = gui->add_option("--flat", o.machine.image_path, "flat 64-bit binary (docs/flat-guests.md)");
  auto* kernel = gui->add_option("--kernel", o.machine.kernel_path, "64-bit ELF kernel");
  s->excludes(flat)->excludes(kernel);
  flat->excludes(kernel);
  gui->add_option("--initrd", o.machine.initrd_path, "initial RAM disk")->needs(kernel);
  gui->add_option("--cmdline", o.machine.cmdline, "kernel command line")->needs(kernel);
  gui->add_option("--paging", a.paging, "native, ept or shadow (default: the scenario's, else native)")
      ->check(CLI::IsMember({"native", "ept", "shadow"}));
  gui->add_option("--ept-pages", a.ept_pages, "largest EPT page: 4k, 2m or 1g")->check(CLI::IsMember({"4k", "2m", "1g"}));
  gui->add_option("--engine", o.engine, "native, bt, vtx-2006 or vtx-ept (default: the scenario's, else native)")
      ->check(CLI::IsMember(hvsim::default_compare_engines()));
  gui->add_option("--compare", o.compare_path, "a `hvsim compare --json` file for the overhead view");
  std::vector<std::string> views;
  for (auto v : hvsim::gui::kAllViews) views.emplace_back(hvsim::gui::view_name(v));
  gui->add_option("--view", a.view, "the view shown first (and in the screenshot)")->check(CLI::IsMember(views));
  gui->add_option("--screenshot", o.screenshot_path, "render headless, write this PNG and exit");
  gui->add_option("--frames", o.frames, "frames rendered before the screenshot")->check(CLI::Range(1, 1000));
  gui->add_option("--size", a.size, "window size, WIDTHxHEIGHT");
  gui->add_option("--scale", o.scale, "text and widget scale for a projector (1 = 18-pixel text)")
      ->check(CLI::Range(0.5, 4.0));
  gui->add_option("--theme", a.theme, "dark or light")->check(CLI::IsMember({"dark", "light"}));
  a.va_option = gui->add_option("--va", a.va, "linear address the translation view shows (default: RIP)");
  gui->add_option("--pause-at-us", a.pause_at_us,
                  "pause when the guest's virtual time reaches this many microseconds (screenshots: 2000)");
  gui->add_flag("--paused", o.start_paused, "start paused");
  return gui;
}

int gui_command(GuiArgs& a) {
  using namespace hvsim;
  gui::GuiOptions& o = a.options;
  if (o.scenario_path.empty() && o.machine.image_path.empty() && o.machine.kernel_path.empty()) {
    std::fprintf(stderr, "hvsim: gui: give a scenario, --flat or --kernel\n");
    return kExitBadInput;
  }
  int w = 0, h = 0;
  char rest = 0;
  if (std::sscanf(a.size.c_str(), "%dx%d%c", &w, &h, &rest) != 2) {
    std::fprintf(stderr, "hvsim: gui: --size must be WIDTHxHEIGHT, e.g. 1600x900\n");
    return kExitBadInput;
  }
  o.width = w;
  o.height = h;
  if (!a.paging.empty()) o.paging = parse_paging_mode(a.paging);
  o.machine.ept_page = a.ept_pages == "1g" ? EptPageSize::Size1G : a.ept_pages == "2m" ? EptPageSize::Size2M
                                                                                         : EptPageSize::Size4K;
  o.view = gui::parse_view(a.view).value_or(gui::ViewId::Timeline);
  o.theme = a.theme == "light" ? gui::Theme::Light : gui::Theme::Dark;
  if (a.va_option && a.va_option->count()) o.walk_va = a.va;
  if (a.pause_at_us > UINT64_MAX / 1000) {
    std::fprintf(stderr, "hvsim: gui: --pause-at-us is too large\n");
    return kExitBadInput;
  }
  o.pause_at_ns = a.pause_at_us * 1000;
  return gui::run_gui(o, build_dir());
}

struct CompareArgs {
  hvsim::CompareRequest request;
  std::string engines, json_path, csv_path, svg_path;
  bool quiet = false;
};

CLI::App* add_compare_command(CLI::App& app, CompareArgs& a) {
  auto* c = app.add_subcommand("compare", "run a scenario under several engines and compare their modeled cost, "
                                          "program by program, with Adams & Agesen's published numbers");
  c->footer("Examples:\n  hvsim compare scenarios/nanobench.toml\n"
            "  hvsim compare scenarios/forkwait.toml --engines native,vtx-ept --profile sandybridge-2011\n"
            "  hvsim compare scenarios/nanobench.toml --json out.json --csv out.csv --plot out.svg\n"
            "Exit status: 0 compared; 1 an engine's guest did not behave as native's (console, exit status);\n"
            "2 bad usage or input (scenario, profile); 3 a guest crashed the run. docs/cost-model.md explains the model.");
  c->add_option("scenario", a.request.scenario_path, "scenario file with one guest (docs/scenarios.md)")->required();
  c->add_option("--engines", a.engines, "comma-separated: native, bt, vtx-2006, vtx-ept (default: all four)");
  c->add_option("--profile", a.request.profile, "cost profile: a name in scenarios/profiles/ or a .toml path (default p4-2006)");
  c->add_option("--json", a.json_path, "write the results as JSON (schema hvsim-compare/1) to this file");
  c->add_option("--csv", a.csv_path, "write the rows as CSV to this file");
  c->add_option("--plot", a.svg_path, "write an SVG bar chart (log scale, one group per program) to this file");
  c->add_flag("--quiet,-q", a.quiet, "no progress lines on stderr");
  return c;
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) std::fprintf(stderr, "hvsim: compare: cannot write '%s'\n", path.c_str());
  return static_cast<bool>(f);
}

int compare_command(CompareArgs& a) {
  using namespace hvsim;
  a.request.build_dir = build_dir();
  a.request.progress = !a.quiet;
  for (size_t pos = 0; !a.engines.empty() && pos <= a.engines.size();) {
    size_t comma = a.engines.find(',', pos);
    if (comma == std::string::npos) comma = a.engines.size();
    a.request.engines.push_back(a.engines.substr(pos, comma - pos));
    pos = comma + 1;
  }
  auto outcome = run_compare(a.request);
  if (auto* err = std::get_if<CompareError>(&outcome)) {
    std::fprintf(stderr, "hvsim: compare: %s\n", err->message.c_str());
    return static_cast<int>(err->kind);
  }
  const CompareResult& r = std::get<CompareResult>(outcome);
  std::fputs(compare_table(r).c_str(), stdout);
  bool written = true;
  if (!a.json_path.empty()) written &= write_text(a.json_path, compare_json(r));
  if (!a.csv_path.empty()) written &= write_text(a.csv_path, compare_csv(r));
  if (!a.svg_path.empty()) written &= write_text(a.svg_path, compare_svg(r));
  return written ? 0 : kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hvsim: an educational hypervisor simulator"};
  app.require_subcommand(1);

  hvsim::MachineOptions opt;
  std::string engine, dump_path, scenario_path;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "run a scenario, a kernel or a flat guest");
  run->footer("Examples:\n  hvsim run scenarios/selftest.toml\n  hvsim run scenarios/nanobench.toml --engine bt\n"
              "  hvsim run scenarios/forkwait.toml --engine vtx --preset vtx-2006\n"
              "  hvsim run --flat build/guest/flat/pf_codes.bin --paging shadow --log pf.jsonl\n"
              "Exit status: a scenario 0 passed, 1 an expectation failed, 2 bad usage or input; a flat guest or\n"
              "kernel its own exit status, or 120-124 when the run ended otherwise (docs/flat-guests.md).");
  auto* scenario = run->add_option("scenario", scenario_path, "scenario file (scenarios/*.toml, docs/scenarios.md)");
  auto* flat = run->add_option("--flat", opt.image_path, "flat 64-bit binary loaded at 0x100000 (docs/flat-guests.md)");
  auto* kernel = run->add_option("--kernel", opt.kernel_path, "64-bit ELF kernel (docs/boot-protocol.md)");
  flat->excludes(kernel);
  kernel->excludes(flat);
  scenario->excludes(flat);
  scenario->excludes(kernel);
  run->add_option("--initrd", opt.initrd_path, "initial RAM disk handed to the kernel")->needs(kernel);
  run->add_option("--cmdline", opt.cmdline, "kernel command line")->needs(kernel);
  run->add_option("--engine", engine,
                  "execution engine: native, bt (binary translation) or vtx (default: the scenario's, else native)")
      ->check(CLI::IsMember({"native", "bt", "vtx"}));
  run->add_option("--preset", opt.preset, "vtx: vtx-2006 or vtx-ept (default: the scenario's, else vtx-ept)")
      ->check(CLI::IsMember({"vtx-2006", "vtx-ept"}));
  std::string paging;
  run->add_option("--paging", paging,
                  "memory virtualization: native (none), ept or shadow (default: the scenario's, else native)")
      ->check(CLI::IsMember({"native", "ept", "shadow"}));
  std::string ept_pages = "4k";
  run->add_option("--ept-pages", ept_pages, "largest EPT page the VMM maps guest RAM with: 4k, 2m or 1g")
      ->check(CLI::IsMember({"4k", "2m", "1g"}));
  run->add_option("--log", opt.log_path, "write the event log (JSON Lines) to this file");
  run->add_option("--dump-state", dump_path, "write the final registers as JSON to this file");
  run->add_option("--max-instructions", opt.max_instructions,
                  "stop at the first block boundary at or after this many guest instructions")
      ->check(CLI::Validator(
          [](std::string& s) { return s.find('-') == std::string::npos ? std::string() : "must not be negative"; },
          "NON-NEGATIVE"));
  run->add_flag("--quiet,-q", quiet, "no summary line on a normal exit");
  run->add_flag("--apic", opt.flat_apic,
                "flat guest: a local APIC at 0xfee00000 is its interrupt controller (kernels always have one)")
      ->needs(flat);

  hvsim::MachineOptions walk_opt;
  std::string walk_scenario, walk_access = "read", walk_paging;
  uint64_t walk_at = 0, walk_va = 0;
  int walk_cpl = -1;
  auto* walk = app.add_subcommand("walk", "show how the MMU translates one linear address, every reference of every "
                                          "dimension (guest tables, EPT or shadow tables)");
  walk->footer("Examples:\n  hvsim walk scenarios/boot.toml --at 1000000 --va 0xffffffff80100000 --paging ept\n"
               "  hvsim walk --flat build/guest/flat/pf_codes.bin --va 0x100000 --access fetch --paging shadow");
  auto* walk_s = walk->add_option("scenario", walk_scenario, "scenario file (one guest)");
  auto* walk_flat = walk->add_option("--flat", walk_opt.image_path, "flat 64-bit binary");
  auto* walk_kernel = walk->add_option("--kernel", walk_opt.kernel_path, "64-bit ELF kernel");
  walk_s->excludes(walk_flat)->excludes(walk_kernel);
  walk_flat->excludes(walk_kernel);
  walk->add_option("--initrd", walk_opt.initrd_path, "initial RAM disk")->needs(walk_kernel);
  walk->add_option("--cmdline", walk_opt.cmdline, "kernel command line")->needs(walk_kernel);
  walk->add_option("--va", walk_va, "the linear address (0x... accepted)")->required();
  walk->add_option("--at", walk_at, "run this many guest instructions first (0: walk the initial state)");
  walk->add_option("--access", walk_access, "read, write or fetch")->check(CLI::IsMember({"read", "write", "fetch"}));
  walk->add_option("--cpl", walk_cpl, "privilege level of the access (default: the CPU's)")->check(CLI::Range(0, 3));
  walk->add_option("--paging", walk_paging, "native, ept or shadow")->check(CLI::IsMember({"native", "ept", "shadow"}));

  hvsim::TranslateRequest tr;
  std::string tr_paging;
  uint64_t tr_from = 0, tr_to = 0, tr_count = 0;
  auto* translate = app.add_subcommand("translate", "the bt engine's translation of a guest address range: each guest "
                                                    "instruction beside the translated code, every rewrite explained");
  translate->footer(
      "Examples:\n  hvsim translate --flat build/guest/flat/int_dpl.bin --count 40\n"
      "  hvsim translate scenarios/nanobench.toml --at 2000000 --from 0xffffffff80103344 --count 24  (syscall_entry)\n"
      "  hvsim translate scenarios/boot.toml --at 300000 --paging native\n"
      "Without --from: 0x100000 (the entry) for flat guests, the RIP after the run for kernels.\n"
      "Addresses the run has not reached are translated for the report. Exit status: 0, or 2 for bad input\n"
      "(files, a range that is empty, over 64 KiB or not mapped). docs/binary-translation.md explains the rewrites.");
  auto* tr_s = translate->add_option("scenario", tr.scenario_path, "scenario file (one guest)");
  auto* tr_flat = translate->add_option("--flat", tr.machine.image_path, "flat 64-bit binary");
  auto* tr_kernel = translate->add_option("--kernel", tr.machine.kernel_path, "64-bit ELF kernel");
  tr_s->excludes(tr_flat)->excludes(tr_kernel);
  tr_flat->excludes(tr_kernel);
  translate->add_option("--initrd", tr.machine.initrd_path, "initial RAM disk")->needs(tr_kernel);
  translate->add_option("--cmdline", tr.machine.cmdline, "kernel command line")->needs(tr_kernel);
  const CLI::Validator tr_non_negative(
      [](std::string& s) { return s.find('-') == std::string::npos ? std::string() : "must not be negative"; },
      "NON-NEGATIVE");
  translate->add_option("--at", tr.at, "run this many guest instructions first (0: translate the initial state)")
      ->check(tr_non_negative);
  auto* tr_from_opt = translate->add_option("--from", tr_from, "first guest address (0x... accepted)")->check(tr_non_negative);
  auto* tr_to_opt = translate->add_option("--to", tr_to, "end of the range, exclusive (at most 64 KiB after --from)")
                        ->check(tr_non_negative);
  auto* tr_count_opt =
      translate->add_option("--count", tr_count, "guest instructions to show, in address order (default 32, at most 4096)")
          ->check(tr_non_negative);
  tr_to_opt->excludes(tr_count_opt);
  translate->add_option("--paging", tr_paging, "native or shadow (default: shadow, as Adams & Agesen's VMM)")
      ->check(CLI::IsMember({"native", "shadow"}));

  GuiArgs gui_args;
  auto* gui = add_gui_command(app, gui_args);

  CompareArgs compare_args;
  auto* compare = add_compare_command(app, compare_args);

  std::string log_file;
  auto* verify = app.add_subcommand("verify-log", "check an event log's hash chain");
  verify->footer("Example:\n  hvsim run scenarios/isolation.toml --log run.jsonl && hvsim verify-log run.jsonl\n"
                 "Exit status: 0 the chain is intact, 1 it is broken or unreadable (the message says where), 2 bad usage.");
  verify->add_option("file", log_file)->required();

  try {
    app.parse(argc, argv);
    if (*run && opt.image_path.empty() && opt.kernel_path.empty() && scenario_path.empty()) {
      throw CLI::RequiredError("--flat or --kernel");
    }
    if (*walk && walk_opt.image_path.empty() && walk_opt.kernel_path.empty() && walk_scenario.empty()) {
      throw CLI::RequiredError("a scenario, --flat or --kernel");
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadInput;
  }
  if (!paging.empty()) {
    opt.paging = *hvsim::parse_paging_mode(paging);
    opt.paging_given = true;
  }
  opt.ept_page = ept_pages == "1g"   ? hvsim::EptPageSize::Size1G
                 : ept_pages == "2m" ? hvsim::EptPageSize::Size2M
                                     : hvsim::EptPageSize::Size4K;
  try {
    if (*run && !scenario_path.empty()) {
      return run_scenario(scenario_path, engine, paging.empty() ? std::optional<hvsim::PagingMode>() : opt.paging, opt,
                          dump_path, quiet);
    }
    if (*run) return run_guest(opt, engine.empty() ? "native" : engine, dump_path, quiet);
    if (*walk) {
      if (!walk_paging.empty()) walk_opt.paging = *hvsim::parse_paging_mode(walk_paging);
      return walk_command(walk_scenario, walk_opt, walk_at, walk_va, walk_access, walk_cpl);
    }
    if (*translate) {
      tr.build_dir = build_dir();
      tr.paging = tr_paging;
      if (tr_from_opt->count()) tr.from = tr_from;
      if (tr_to_opt->count()) tr.to = tr_to;
      if (tr_count_opt->count()) tr.count = tr_count;
      return hvsim::translate_command(tr);
    }
    if (*gui) return gui_command(gui_args);
    if (*compare) return compare_command(compare_args);
    if (*verify) {
      auto r = hvsim::verify_log_chain(log_file);
      if (!r) {
        std::fprintf(stderr, "hvsim: %s\n", r.error().message.c_str());
        return 1;
      }
      std::printf("%llu records, chain intact\n", static_cast<unsigned long long>(*r));
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hvsim: internal error: %s\n", e.what());
    return kExitHostError;
  }
  return 0;
}
