#pragma once
// `hvsim translate`: what the bt engine made of a guest address range. Each guest instruction
// (Intel syntax) beside the translation-cache code it became, the rewrite named and explained
// (translator/explain.hpp, the data the visualizer's code view shows too), then the engine's
// counters. Fragments the run did not reach are translated for the report.
#include <cstdint>
#include <optional>
#include <string>

#include "app/machine_builder.hpp"
#include "core/util/result.hpp"
#include "core/vm/vm.hpp"
#include "translator/bt_engine.hpp"

namespace hvsim {

// The largest guest range one report covers, and the most instructions --count may ask for.
constexpr uint64_t kTranslateMaxRange = 64 * 1024;
constexpr uint64_t kTranslateMaxCount = 4096;
constexpr uint64_t kTranslateDefaultCount = 32;

struct TranslateRange {
  uint64_t from = 0;
  std::optional<uint64_t> to;  // exclusive; or
  uint64_t count = kTranslateDefaultCount;  // guest instructions from `from`, in address order
};

// The report for a VM that runs the bt engine, in its current state; an error for a range it
// cannot show (empty, too large, unmapped start). May translate code the run has not reached.
Result<std::string> translate_report(Vm& vm, bt::BtEngine& engine, const TranslateRange& range);

struct TranslateRequest {
  std::string scenario_path;  // a scenario with one guest, or:
  MachineOptions machine;     // --flat / --kernel (--initrd, --cmdline)
  std::string build_dir;      // what "{build}" means in scenarios
  uint64_t at = 0;            // guest instructions run first (0: the initial state)
  std::optional<uint64_t> from, to, count;
  std::string paging;  // "native" or "shadow"; empty: the scenario's, else shadow
};

// The whole subcommand: builds the machine with engine "bt", runs it, prints the report on
// stdout. Returns the exit status: 0, or 2 for bad input (messages on stderr).
int translate_command(const TranslateRequest& request);

}  // namespace hvsim
