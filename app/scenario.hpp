#pragma once
// Scenarios (scenarios/*.toml): one guest or several (kernel or flat binary, initrd programs,
// command line, memory), the engine and paging, and what must be seen from each guest for the
// run to count as a success (docs/scenarios.md).
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim {

// One guest of a scenario: what to boot and what must be seen from it.
struct GuestSpec {
  std::string name = "guest0";
  std::string kernel;                  // ELF kernel (path, resolved), or
  std::string flat;                    // a flat binary (docs/flat-guests.md)
  std::vector<std::string> programs;   // initrd contents, paths resolved
  std::string cmdline;
  uint64_t memory_mib = 64;
  uint64_t max_instructions = 0;       // 0: no limit
  // Expectations
  int exit_status = 0;
  std::vector<std::string> console;    // lines that must appear, in this order
};

struct Scenario {
  std::string name;
  std::string description;
  std::string engine = "native";
  std::string paging;                  // native, ept or shadow; empty: the engine's default
  std::string preset;                  // vtx: vtx-2006 or vtx-ept
  uint64_t slice_us = 1000;            // several guests: virtual time each runs in turn
  std::vector<GuestSpec> guests;       // one ([guest]) or several ([[guest]])
};

// Paths in a scenario are relative to its own folder; "{build}" stands for `build_dir`.
Result<Scenario> load_scenario(const std::string& path, const std::string& build_dir);

struct ScenarioVerdict {
  bool passed = true;
  std::vector<std::string> failures;
};

// Checks a finished guest against its expectations.
ScenarioVerdict check_guest(const GuestSpec& g, int exit_status, const std::string& console);

}  // namespace hvsim
