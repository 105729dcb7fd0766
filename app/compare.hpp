#pragma once
// `hvsim compare`: one scenario under several engines, each workload's events priced by a cost
// profile, beside Adams & Agesen's published numbers (docs/cost-model.md).
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "core/cost/cost_model.hpp"
#include "core/util/result.hpp"

namespace hvsim {

// An engine configuration to compare: "native", "vtx-2006", "vtx-ept" (and "bt" once it exists).
struct EngineChoice {
  std::string label;
  std::string engine;  // as --engine takes it
  std::string preset;  // vtx only
};
Result<EngineChoice> engine_choice(const std::string& label);
std::vector<std::string> default_compare_engines();

// One program of the scenario: "init PROG N ; ..." gives one workload per program, measured as
// the difference between a run with 2N iterations and one with N, over N (boot, fork, exec and
// the first iteration's warm-up cancel out). Any other guest is one workload: the whole run.
struct Workload {
  std::string program;
  std::vector<std::string> args;  // args[0] is the iteration count when `per_iteration`
  uint64_t iterations = 1;
  bool per_iteration = false;
};
std::vector<Workload> workloads_of(const std::string& cmdline);

// Adams & Agesen (ASPLOS 2006, ../shared/REFERENCES.md §1) for one benchmark.
struct PublishedRow {
  const char* program;
  double native, bt, vt;  // cycles per operation (nanobenchmarks) or seconds (forkwait)
  bool seconds;
};
const PublishedRow* published_row(const std::string& program);
const std::vector<PublishedRow>& published_rows();

struct CompareRow {
  std::string program;
  std::string engine;  // label
  uint64_t iterations = 0;
  EventCounts counts;  // per iteration
  std::vector<CostTerm> terms;  // per iteration
  double cycles_per_iteration = 0;
  double ratio_to_native = 0;  // 0 when there is no native row
  std::optional<double> paper_cycles;  // the paper's figure for this engine's technique
  std::optional<double> paper_ratio;
};

// Which virtual technique is fastest, ours against the paper's, for one program.
struct Verdict {
  std::string program;
  std::string ours;   // engine label, or empty when bt or vtx-2006 was not run
  std::string paper;  // "bt" or "vtx-2006"
  bool matches = false;
  std::string note;
};

struct CompareResult {
  std::string scenario;
  std::string profile_name;
  std::string profile_machine;
  double clock_ghz = 0;
  std::vector<std::string> engines;
  std::vector<CompareRow> rows;
  std::vector<Verdict> verdicts;
  std::vector<std::string> notes;  // e.g. vtx-ept against vtx-2006
};

// How a comparison went wrong: exit codes of `hvsim compare` (docs/cost-model.md).
enum class CompareFailure { BadInput = 2, ExpectationFailed = 1, GuestCrashed = 3 };
struct CompareError {
  CompareFailure kind;
  std::string message;
};

struct CompareRequest {
  std::string scenario_path;
  std::string build_dir;
  std::vector<std::string> engines;
  std::string profile = "p4-2006";
  bool progress = true;  // one line per run on stderr
};

// Runs everything; the result, or what stopped it.
std::variant<CompareResult, CompareError> run_compare(const CompareRequest& request);

std::string compare_table(const CompareResult& r);
std::string compare_json(const CompareResult& r);
std::string compare_csv(const CompareResult& r);
std::string compare_svg(const CompareResult& r);

}  // namespace hvsim
