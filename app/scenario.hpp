#pragma once
// Scenarios (scenarios/*.toml): a guest (kernel, initrd programs, command line, memory), the
// engine, and what must be seen for the run to count as a success (docs/scenarios.md).
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim {

struct Scenario {
  std::string name;
  std::string description;
  std::string engine = "native";
  std::string paging = "native";       // native, ept or shadow
  // Guest
  std::string kernel;                  // path, resolved
  std::vector<std::string> programs;   // initrd contents, paths resolved
  std::string cmdline;
  uint64_t memory_mib = 64;
  uint64_t max_instructions = 0;       // 0: no limit
  // Expectations
  int exit_status = 0;
  std::vector<std::string> console;    // lines that must appear, in this order
};

// Paths in a scenario are relative to its own folder; "{build}" stands for `build_dir`.
Result<Scenario> load_scenario(const std::string& path, const std::string& build_dir);

struct ScenarioVerdict {
  bool passed = true;
  std::vector<std::string> failures;
};

// Checks a finished run against the scenario's expectations.
ScenarioVerdict check_scenario(const Scenario& s, int exit_status, const std::string& console);

}  // namespace hvsim
