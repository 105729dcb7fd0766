// The outputs of `hvsim compare`: a table for the terminal, JSON, CSV and an SVG bar chart in
// the style of Adams & Agesen's Figure 4.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "app/compare.hpp"

namespace hvsim {

namespace {

// The largest cost components of a row, with their share: why it costs what it costs.
std::string top_terms(const CompareRow& row, size_t n) {
  std::vector<CostTerm> terms = row.terms;
  std::sort(terms.begin(), terms.end(), [](const CostTerm& a, const CostTerm& b) { return a.cycles > b.cycles; });
  std::string out;
  for (size_t i = 0; i < terms.size() && i < n; ++i) {
    if (row.cycles_per_iteration <= 0 || terms[i].cycles <= 0) break;
    out += fmt::format("{}{} {:.0f}%", out.empty() ? "" : ", ", terms[i].component,
                       100.0 * terms[i].cycles / row.cycles_per_iteration);
  }
  return out;
}

std::string opt_number(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : std::string("-");
}

}  // namespace

std::string compare_table(const CompareResult& r) {
  std::string out = fmt::format("hvsim compare: scenario {}, cost profile {} ({})\n", r.scenario, r.profile_name,
                                r.profile_machine);
  size_t width = 10;
  for (const auto& row : r.rows) width = std::max(width, row.program.size());
  out += fmt::format("{:<{}} {:<9} {:>10} {:>13} {:>9} {:>13} {:>9}  {}\n", "program", width, "engine", "iterations",
                     "cycles/iter", "x native", "paper (P4)", "paper x", "where the cycles go");
  std::string last;
  for (const auto& row : r.rows) {
    if (!last.empty() && row.program != last) out += "\n";
    last = row.program;
    out += fmt::format("{:<{}} {:<9} {:>10} {:>13.0f} {:>9} {:>13} {:>9}  {}\n", row.program, width, row.engine, row.iterations,
                       row.cycles_per_iteration, row.ratio_to_native > 0 ? fmt::format("{:.2f}", row.ratio_to_native) : "-",
                       opt_number(row.paper_cycles, "{:.0f}"), opt_number(row.paper_ratio, "{:.2f}"), top_terms(row, 3));
  }
  if (!r.verdicts.empty()) {
    out += "\nfastest virtual technique, ours against the paper's:\n";
    for (const auto& v : r.verdicts) {
      out += fmt::format("  {:<10} paper {:<9} ours {:<9} {}\n", v.program, v.paper, v.ours.empty() ? "-" : v.ours, v.note);
    }
  }
  if (!r.notes.empty()) {
    out += "\nsecond-generation VT-x (EPT, TPR shadow) against the first:\n";
    for (const auto& n : r.notes) out += "  " + n + "\n";
  }
  out += "\nModeled cycles are events counted in this run priced by the profile (docs/cost-model.md);\n"
         "a per-iteration row is the difference between a run with 2N iterations and one with N, over N.\n";
  return out;
}

std::string compare_json(const CompareResult& r) {
  using nlohmann::json;
  json j;
  j["schema"] = "hvsim-compare/1";
  j["scenario"] = r.scenario;
  j["profile"] = r.profile_name;
  j["machine"] = r.profile_machine;
  j["clock_ghz"] = r.clock_ghz;
  j["engines"] = r.engines;
  j["rows"] = json::array();
  for (const auto& row : r.rows) {
    json counts = json::object();
    for (const auto& [k, v] : row.counts) {
      if (v != 0) counts[k] = v;
    }
    json terms = json::array();
    for (const auto& t : row.terms) terms.push_back({{"component", t.component}, {"formula", t.formula}, {"cycles", t.cycles}});
    j["rows"].push_back({{"program", row.program},
                         {"engine", row.engine},
                         {"iterations", row.iterations},
                         {"cycles_per_iteration", row.cycles_per_iteration},
                         {"ratio_to_native", row.ratio_to_native > 0 ? json(row.ratio_to_native) : json(nullptr)},
                         {"paper_cycles", row.paper_cycles ? json(*row.paper_cycles) : json(nullptr)},
                         {"paper_ratio", row.paper_ratio ? json(*row.paper_ratio) : json(nullptr)},
                         {"counts", counts},
                         {"terms", terms}});
  }
  j["reference"] = json::array();
  for (const auto& p : published_rows()) {
    j["reference"].push_back({{"program", p.program},
                              {"native", p.native},
                              {"bt", p.bt},
                              {"vtx-2006", p.vt},
                              {"unit", p.seconds ? "seconds for 40000 iterations" : "cycles per iteration"},
                              {"source", "Adams & Agesen, ASPLOS 2006, 3.8 GHz Pentium 4 672"}});
  }
  j["notes"] = r.notes;
  j["verdicts"] = json::array();
  for (const auto& v : r.verdicts) {
    j["verdicts"].push_back({{"program", v.program}, {"paper", v.paper}, {"ours", v.ours.empty() ? json(nullptr) : json(v.ours)},
                             {"matches", v.ours.empty() ? json(nullptr) : json(v.matches)}, {"note", v.note}});
  }
  return j.dump(2) + "\n";
}

std::string compare_csv(const CompareResult& r) {
  std::string out = "program,engine,iterations,cycles_per_iteration,ratio_to_native,paper_cycles,paper_ratio\n";
  for (const auto& row : r.rows) {
    out += fmt::format("{},{},{},{:.1f},{},{},{}\n", row.program, row.engine, row.iterations, row.cycles_per_iteration,
                       row.ratio_to_native > 0 ? fmt::format("{:.4f}", row.ratio_to_native) : "",
                       row.paper_cycles ? fmt::format("{:.1f}", *row.paper_cycles) : "",
                       row.paper_ratio ? fmt::format("{:.4f}", *row.paper_ratio) : "");
  }
  return out;
}

std::string compare_svg(const CompareResult& r) {
  std::vector<std::string> programs;
  for (const auto& row : r.rows) {
    if (std::find(programs.begin(), programs.end(), row.program) == programs.end()) programs.push_back(row.program);
  }
  const std::vector<std::string>& engines = r.engines;
  static const char* kColors[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3"};
  const double left = 70, top = 50, plot_h = 300, group_w = std::max(80.0, 24.0 * static_cast<double>(engines.size()) + 30);
  const double width = left + group_w * static_cast<double>(programs.size()) + 30, height = top + plot_h + 90;
  double max_v = 10;
  for (const auto& row : r.rows) {
    max_v = std::max({max_v, row.cycles_per_iteration, row.paper_cycles.value_or(0)});
  }
  const double decades = std::ceil(std::log10(max_v));
  auto y_of = [&](double v) { return top + plot_h - plot_h * std::log10(std::max(v, 1.0)) / decades; };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{:.0f}\" y=\"24\" font-size=\"15\">{}: modeled cycles per iteration ({}), log scale; "
      "black ticks: Adams &amp; Agesen 2006 (P4)</text>\n",
      width, height, left, r.scenario, r.profile_name);
  for (int d = 0; d <= static_cast<int>(decades); ++d) {
    const double y = y_of(std::pow(10.0, d));
    s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                     "<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                     left, width - 20, y, y, left - 6, y + 4, std::pow(10.0, d));
  }
  for (size_t p = 0; p < programs.size(); ++p) {
    const double gx = left + group_w * static_cast<double>(p) + 15;
    for (size_t e = 0; e < engines.size(); ++e) {
      for (const auto& row : r.rows) {
        if (row.program != programs[p] || row.engine != engines[e]) continue;
        const double x = gx + 24.0 * static_cast<double>(e), y = y_of(row.cycles_per_iteration);
        s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"20\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: {:.0f} cycles</title></rect>\n",
                         x, y, top + plot_h - y, kColors[e % 5], row.program, row.engine, row.cycles_per_iteration);
        if (row.paper_cycles) {
          const double py = y_of(*row.paper_cycles);
          s += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\" stroke-width=\"3\"/>\n",
                           x - 2, x + 22, py, py);
        }
      }
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n",
                     gx + 12.0 * static_cast<double>(engines.size()), top + plot_h + 18, programs[p]);
  }
  for (size_t e = 0; e < engines.size(); ++e) {
    const double x = left + 110.0 * static_cast<double>(e);
    s += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.0f}\" y=\"{:.0f}\">{}</text>\n",
                     x, top + plot_h + 40, kColors[e % 5], x + 16, top + plot_h + 50, engines[e]);
  }
  s += "</svg>\n";
  return s;
}

}  // namespace hvsim
