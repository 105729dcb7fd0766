#include "app/compare.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "app/cost_profile_loader.hpp"
#include "app/event_counts.hpp"
#include "app/initrd.hpp"
#include "app/machine_builder.hpp"
#include "app/scenario.hpp"
#include "core/vm/elf_loader.hpp"

namespace hvsim {

namespace {
constexpr uint64_t kMaxFlatImage = 32ull << 20;
// The paper's machine: forkwait's seconds become cycles at this clock.
constexpr double kPaperClockGhz = 3.8;
constexpr double kPaperForkwaitIterations = 40000;
}  // namespace

Result<EngineChoice> engine_choice(const std::string& label) {
  if (label == "native") return EngineChoice{label, "native", ""};
  if (label == "bt") return EngineChoice{label, "bt", ""};
  if (label == "vtx-2006" || label == "vtx-ept") return EngineChoice{label, "vtx", label};
  return make_error("unknown engine '" + label + "' (native, bt, vtx-2006, vtx-ept)");
}

std::vector<std::string> default_compare_engines() { return {"native", "bt", "vtx-2006", "vtx-ept"}; }

std::vector<Workload> workloads_of(const std::string& cmdline) {
  std::vector<Workload> out;
  std::istringstream in(cmdline);
  std::string first;
  in >> first;
  if (first == "init") {
    Workload w;
    std::string word;
    auto flush = [&] {
      if (w.program.empty()) return;
      w.per_iteration = !w.args.empty() && !w.args[0].empty() && w.args[0].size() <= 12 &&
                        w.args[0].find_first_not_of("0123456789") == std::string::npos && std::stoull(w.args[0]) > 0;
      w.iterations = w.per_iteration ? std::stoull(w.args[0]) : 1;
      out.push_back(w);
      w = Workload{};
    };
    while (in >> word) {
      if (word == ";") {
        flush();
      } else if (w.program.empty()) {
        w.program = word;
      } else {
        w.args.push_back(word);
      }
    }
    flush();
  }
  if (out.empty()) out.push_back(Workload{"(whole run)", {}, 1, false});
  return out;
}

const std::vector<PublishedRow>& published_rows() {
  // Adams & Agesen 2006, appendix "Raw data" (cycles) and §6 (forkwait, 40,000 iterations, s).
  static const std::vector<PublishedRow> rows = {
      {"syscall", 242, 2308, 246, false},  {"in", 3209, 216, 15826, false},    {"cr8write", 150, 35, 177, false},
      {"callret", 11, 51, 11, false},      {"pgfault", 1093, 3927, 11242, false}, {"divzero", 889, 3223, 1014, false},
      {"ptemod", 1, 391, 12733, false},    {"forkwait", 6.02, 36.95, 106.4, true},
  };
  return rows;
}

const PublishedRow* published_row(const std::string& program) {
  for (const auto& r : published_rows()) {
    if (program == r.program) return &r;
  }
  return nullptr;
}

namespace {

struct Measured {
  EventCounts counts;
  Technique technique = Technique::Native;
  std::string console;
};

std::string outcome_text(const RunOutcome& out) {
  return std::string(run_end_name(out.end)) + (out.detail.empty() ? "" : ": " + out.detail);
}

std::variant<Measured, CompareError> measure(const GuestSpec& g, const EngineChoice& e, const std::string& cmdline,
                                             const std::vector<uint8_t>& image, const std::vector<uint8_t>& initrd) {
  MachineOptions opt;
  opt.name = g.name;
  opt.kernel_path = g.kernel;
  opt.image_path = g.flat;
  opt.cmdline = cmdline;
  opt.ram_bytes = g.memory_mib << 20;
  opt.max_instructions = g.max_instructions;
  opt.engine = e.engine;
  opt.preset = e.preset;
  auto machine = build_machine(opt, image, initrd);
  if (!machine) return CompareError{CompareFailure::BadInput, machine.error().message};
  Vm& vm = *(*machine)->vm;
  Measured m;
  vm.set_console([&m](char c) {
    if (m.console.size() < (1u << 20)) m.console.push_back(c);
  });
  const RunOutcome out = vm.run();
  if (out.end != RunEnd::Exited) {
    return CompareError{CompareFailure::GuestCrashed,
                        e.label + ", '" + cmdline + "': the run ended with " + outcome_text(out)};
  }
  if (out.exit_status != 0) {
    return CompareError{CompareFailure::ExpectationFailed,
                        e.label + ", '" + cmdline + "': the guest exited with status " + std::to_string(out.exit_status)};
  }
  m.counts = collect_event_counts(vm);
  m.technique = technique_of(vm);
  return m;
}

std::string join_args(const Workload& w, const std::string& iterations) {
  std::string s = "init " + w.program;
  for (size_t i = 0; i < w.args.size(); ++i) s += " " + (i == 0 && w.per_iteration ? iterations : w.args[i]);
  return s;
}

EventCounts per_iteration(const EventCounts& with, const EventCounts& without, double iterations) {
  EventCounts out;
  for (const auto& [k, v] : with) out[k] = (v - count_of(without, k)) / iterations;
  for (const auto& [k, v] : without) {
    if (!with.count(k)) out[k] = -v / iterations;
  }
  return out;
}

std::optional<double> paper_value(const PublishedRow& p, const std::string& engine) {
  double v;
  if (engine == "native") v = p.native;
  else if (engine == "bt") v = p.bt;
  else if (engine == "vtx-2006") v = p.vt;
  else return std::nullopt;
  return p.seconds ? v / kPaperForkwaitIterations * kPaperClockGhz * 1e9 : v;
}

void judge(CompareResult& r) {
  std::set<std::string> programs;
  for (const auto& row : r.rows) programs.insert(row.program);
  auto find = [&](const std::string& program, const std::string& engine) -> const CompareRow* {
    for (const auto& row : r.rows) {
      if (row.program == program && row.engine == engine) return &row;
    }
    return nullptr;
  };
  for (const auto& p : published_rows()) {
    if (!programs.count(p.program)) continue;
    Verdict v;
    v.program = p.program;
    v.paper = p.bt < p.vt ? "bt" : "vtx-2006";
    const CompareRow* bt = find(p.program, "bt");
    const CompareRow* vt = find(p.program, "vtx-2006");
    if (bt && vt) {
      v.ours = bt->cycles_per_iteration < vt->cycles_per_iteration ? "bt" : "vtx-2006";
      v.matches = v.ours == v.paper;
      v.note = v.matches ? "fastest virtual technique as in the paper" : "DIFFERS from the paper";
    } else {
      v.note = std::string("not judged: ") + (bt ? "" : "bt ") + (vt ? "" : "vtx-2006 ") + "not run";
    }
    r.verdicts.push_back(v);
  }
  for (const auto& program : programs) {
    const CompareRow* old_vt = find(program, "vtx-2006");
    const CompareRow* ept = find(program, "vtx-ept");
    if (!old_vt || !ept) continue;
    const double a = ept->cycles_per_iteration, b = old_vt->cycles_per_iteration;
    char line[200];
    std::snprintf(line, sizeof line, "%s: vtx-ept %.0f vs vtx-2006 %.0f cycles per iteration (%s)", program.c_str(), a, b,
                  a < 0.99 * b ? "vtx-ept faster" : a > 1.01 * b ? "vtx-ept slower" : "about equal");
    r.notes.push_back(line);
  }
}

}  // namespace

std::variant<CompareResult, CompareError> run_compare(const CompareRequest& req) {
  auto scenario = load_scenario(req.scenario_path, req.build_dir);
  if (!scenario) return CompareError{CompareFailure::BadInput, scenario.error().message};
  if (scenario->guests.size() != 1) {
    return CompareError{CompareFailure::BadInput, "compare takes a scenario with one guest ('" + req.scenario_path +
                                                      "' has " + std::to_string(scenario->guests.size()) + ")"};
  }
  auto profile = find_cost_profile(req.profile);
  if (!profile) return CompareError{CompareFailure::BadInput, profile.error().message};
  std::vector<EngineChoice> engines;
  for (const auto& label : req.engines.empty() ? default_compare_engines() : req.engines) {
    auto e = engine_choice(label);
    if (!e) return CompareError{CompareFailure::BadInput, e.error().message};
    for (const auto& seen : engines) {
      if (seen.label == label) return CompareError{CompareFailure::BadInput, "engine '" + label + "' given twice"};
    }
    engines.push_back(*e);
  }
  // Native first: every other engine's console is checked against it.
  std::stable_partition(engines.begin(), engines.end(), [](const EngineChoice& e) { return e.label == "native"; });
  const GuestSpec& g = scenario->guests[0];
  auto image = g.kernel.empty() ? read_file(g.flat, kMaxFlatImage) : read_file(g.kernel, kMaxKernelBytes);
  if (!image) return CompareError{CompareFailure::BadInput, image.error().message};
  std::vector<uint8_t> initrd;
  if (!g.programs.empty()) {
    auto files = initrd_files_from_paths(g.programs);
    if (!files) return CompareError{CompareFailure::BadInput, files.error().message};
    auto packed = pack_initrd(*files);
    if (!packed) return CompareError{CompareFailure::BadInput, packed.error().message};
    initrd = std::move(*packed);
  }

  CompareResult result;
  result.scenario = scenario->name;
  result.profile_name = profile->name;
  result.profile_machine = profile->machine;
  result.clock_ghz = profile->clock_ghz;
  for (const auto& e : engines) result.engines.push_back(e.label);
  const bool kernel_workloads = !g.kernel.empty();
  const std::vector<Workload> workloads = kernel_workloads ? workloads_of(g.cmdline) : workloads_of("");
  for (const auto& w : workloads) {
    std::string native_console;
    double native_cycles = 0;
    for (const auto& e : engines) {
      const std::string cmdline = w.program == "(whole run)" ? g.cmdline : join_args(w, w.args.empty() ? "" : w.args[0]);
      if (req.progress) std::fprintf(stderr, "hvsim compare: %s under %s\n", cmdline.empty() ? g.flat.c_str() : cmdline.c_str(), e.label.c_str());
      auto full = measure(g, e, cmdline, *image, initrd);
      if (auto* err = std::get_if<CompareError>(&full)) return *err;
      Measured& m = std::get<Measured>(full);
      EventCounts counts = m.counts;
      if (w.per_iteration) {
        // The cost of N more iterations: a run with 2N minus the run with N. Boot, fork, exec,
        // the first iteration's warm-up and the report line cancel out (the line differs by
        // one digit at most, when 2N has one more digit than N).
        auto twice = measure(g, e, join_args(w, std::to_string(2 * w.iterations)), *image, initrd);
        if (auto* err = std::get_if<CompareError>(&twice)) return *err;
        counts = per_iteration(std::get<Measured>(twice).counts, m.counts, static_cast<double>(w.iterations));
      }
      if (e.label == "native") {
        native_console = m.console;
      } else if (!native_console.empty() && m.console != native_console) {
        return CompareError{CompareFailure::ExpectationFailed,
                            e.label + ", '" + cmdline + "': the guest's console output differs from native's"};
      }
      CompareRow row;
      row.program = w.program;
      row.engine = e.label;
      row.iterations = w.iterations;
      row.terms = cost_terms(counts, m.technique, *profile);
      row.counts = std::move(counts);
      row.cycles_per_iteration = total_cycles(row.terms);
      if (e.label == "native") native_cycles = row.cycles_per_iteration;
      if (const PublishedRow* p = published_row(w.program)) {
        row.paper_cycles = paper_value(*p, e.label);
        if (row.paper_cycles) row.paper_ratio = *row.paper_cycles / (p->seconds ? p->native / kPaperForkwaitIterations * kPaperClockGhz * 1e9 : p->native);
      }
      result.rows.push_back(std::move(row));
    }
    if (native_cycles > 0) {
      for (auto& row : result.rows) {
        if (row.program == w.program) row.ratio_to_native = row.cycles_per_iteration / native_cycles;
      }
    }
  }
  judge(result);
  return result;
}

}  // namespace hvsim
