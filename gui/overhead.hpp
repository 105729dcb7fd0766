#pragma once
// The overhead view's data: a `hvsim compare` result (its JSON, schema hvsim-compare/1, read
// from a file or measured by the app) and the bar chart laid out from it: per program one bar
// per engine, cycles per iteration on one log scale, the paper's figure as a tick.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim::gui {

struct OverheadRow {
  std::string program, engine;
  uint64_t iterations = 0;
  double cycles = 0;           // modeled cycles per iteration
  double ratio = 0;            // to native, 0 without a native row
  std::optional<double> paper_cycles, paper_ratio;
  std::vector<std::pair<std::string, double>> top_terms;  // the largest cost components
};

struct OverheadVerdict {
  std::string program, ours, paper, note;
  bool matches = false;
};

struct OverheadData {
  std::string scenario, profile, machine;
  std::vector<std::string> engines;
  std::vector<OverheadRow> rows;
  std::vector<OverheadVerdict> verdicts;
  std::vector<std::string> notes;
};

// Reads compare JSON; an error names what is missing or malformed (never throws).
Result<OverheadData> parse_overhead(const std::string& json);
Result<OverheadData> load_overhead(const std::string& path);

struct OverheadBar {
  std::string engine;
  const OverheadRow* row = nullptr;
  float length = 0;                  // 0..1 of the chart's width (log scale)
  std::optional<float> paper_tick;   // where the paper's figure for this technique falls
};

struct OverheadGroup {
  std::string program;
  std::vector<OverheadBar> bars;  // in the result's engine order
  const OverheadVerdict* verdict = nullptr;
};

struct OverheadChart {
  double lo = 1, hi = 10;  // the scale: powers of ten around every value shown
  std::vector<OverheadGroup> groups;  // in the order programs first appear
  // 0..1 along the scale (clamped).
  float position(double cycles) const;
  std::vector<double> decades() const;  // lo, 10 lo, ..., hi: the grid lines
};

// `data` must outlive the chart (bars point into its rows).
OverheadChart chart_overhead(const OverheadData& data);

// A stable color per engine label (RGBA), the same in every theme.
uint32_t engine_color(const std::string& engine);

}  // namespace hvsim::gui
