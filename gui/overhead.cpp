#include "gui/overhead.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gui/stable_hash.hpp"

namespace hvsim::gui {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxCompareFile = 16ull << 20;  // a compare result is a few hundred KiB at most

Result<std::string> text_of(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return make_error(where + ": \"" + key + "\" must be a string");
  return it->get<std::string>();
}

Result<double> number_of(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return make_error(where + ": \"" + key + "\" must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < 0) return make_error(where + ": \"" + key + "\" must be finite and not negative");
  return v;
}

// A string member, or "" when absent or of another type (optional fields).
std::string text_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<double> optional_number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) && v > 0 ? std::optional<double>(v) : std::nullopt;
}

Result<OverheadRow> parse_row(const json& j, size_t index) {
  const std::string where = "rows[" + std::to_string(index) + "]";
  if (!j.is_object()) return make_error(where + " must be an object");
  OverheadRow r;
  auto program = text_of(j, "program", where);
  if (!program) return program.error();
  auto engine = text_of(j, "engine", where);
  if (!engine) return engine.error();
  auto cycles = number_of(j, "cycles_per_iteration", where);
  if (!cycles) return cycles.error();
  r.program = *program;
  r.engine = *engine;
  r.cycles = *cycles;
  r.ratio = optional_number(j, "ratio_to_native").value_or(0);
  r.paper_cycles = optional_number(j, "paper_cycles");
  r.paper_ratio = optional_number(j, "paper_ratio");
  if (auto it = j.find("iterations"); it != j.end() && it->is_number_unsigned()) r.iterations = it->get<uint64_t>();
  if (auto it = j.find("terms"); it != j.end() && it->is_array()) {
    for (const json& t : *it) {
      if (!t.is_object()) continue;
      auto c = t.find("component");
      auto v = t.find("cycles");
      if (c == t.end() || v == t.end() || !c->is_string() || !v->is_number()) continue;
      r.top_terms.emplace_back(c->get<std::string>(), v->get<double>());
    }
    std::stable_sort(r.top_terms.begin(), r.top_terms.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (r.top_terms.size() > 3) r.top_terms.resize(3);
  }
  return r;
}

}  // namespace

Result<OverheadData> parse_overhead(const std::string& text) {
  json j = json::parse(text, nullptr, false);  // no exceptions: bad input is a value
  if (j.is_discarded()) return make_error("not JSON");
  if (!j.is_object()) return make_error("not a compare result (a JSON object)");
  auto schema = text_of(j, "schema", "the result");
  if (!schema) return schema.error();
  if (*schema != "hvsim-compare/1") return make_error("schema '" + *schema + "' is not hvsim-compare/1");
  OverheadData d;
  auto scenario = text_of(j, "scenario", "the result");
  if (!scenario) return scenario.error();
  d.scenario = *scenario;
  d.profile = text_or_empty(j, "profile");
  d.machine = text_or_empty(j, "machine");
  auto rows = j.find("rows");
  if (rows == j.end() || !rows->is_array() || rows->empty()) return make_error("\"rows\" must be a non-empty array");
  for (size_t i = 0; i < rows->size(); ++i) {
    auto r = parse_row((*rows)[i], i);
    if (!r) return r.error();
    d.rows.push_back(std::move(*r));
  }
  if (auto e = j.find("engines"); e != j.end() && e->is_array()) {
    for (const json& x : *e) {
      if (x.is_string()) d.engines.push_back(x.get<std::string>());
    }
  }
  for (const OverheadRow& r : d.rows) {  // every row's engine is listed, once
    if (std::find(d.engines.begin(), d.engines.end(), r.engine) == d.engines.end()) d.engines.push_back(r.engine);
  }
  if (auto v = j.find("verdicts"); v != j.end() && v->is_array()) {
    for (const json& x : *v) {
      if (!x.is_object()) continue;
      OverheadVerdict verdict;
      verdict.program = text_or_empty(x, "program");
      verdict.ours = text_or_empty(x, "ours");
      verdict.paper = text_or_empty(x, "paper");
      verdict.note = text_or_empty(x, "note");
      auto m = x.find("matches");
      verdict.matches = m != x.end() && m->is_boolean() && m->get<bool>();
      if (!verdict.program.empty()) d.verdicts.push_back(std::move(verdict));
    }
  }
  if (auto n = j.find("notes"); n != j.end() && n->is_array()) {
    for (const json& x : *n) {
      if (x.is_string()) d.notes.push_back(x.get<std::string>());
    }
  }
  return d;
}

Result<OverheadData> load_overhead(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path);
  std::string text;
  text.resize(kMaxCompareFile + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxCompareFile) return make_error(path + ": larger than a compare result can be");
  auto d = parse_overhead(text);
  if (!d) return make_error(path + ": " + d.error().message);
  return d;
}

float OverheadChart::position(double cycles) const {
  if (!(cycles > 0)) return 0;
  const double p = (std::log10(cycles) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return static_cast<float>(std::clamp(p, 0.0, 1.0));
}

std::vector<double> OverheadChart::decades() const {
  std::vector<double> out;
  for (double d = lo; d <= hi * 1.0001; d *= 10) out.push_back(d);
  return out;
}

OverheadChart chart_overhead(const OverheadData& data) {
  OverheadChart c;
  double min_v = 0, max_v = 0;
  auto see = [&](double v) {
    if (!(v > 0)) return;
    min_v = min_v == 0 ? v : std::min(min_v, v);
    max_v = std::max(max_v, v);
  };
  for (const OverheadRow& r : data.rows) {
    see(r.cycles);
    if (r.paper_cycles) see(*r.paper_cycles);
  }
  if (max_v > 0) {
    c.lo = std::pow(10.0, std::floor(std::log10(min_v)));
    c.hi = std::pow(10.0, std::ceil(std::log10(max_v)));
    if (c.hi <= c.lo) c.hi = c.lo * 10;
  }
  for (const OverheadRow& r : data.rows) {
    auto g = std::find_if(c.groups.begin(), c.groups.end(), [&](const OverheadGroup& x) { return x.program == r.program; });
    if (g == c.groups.end()) {
      c.groups.push_back(OverheadGroup{r.program, {}, nullptr});
      g = c.groups.end() - 1;
    }
    OverheadBar bar{r.engine, &r, c.position(r.cycles), std::nullopt};
    if (r.paper_cycles) bar.paper_tick = c.position(*r.paper_cycles);
    g->bars.push_back(bar);
  }
  for (OverheadGroup& g : c.groups) {
    std::stable_sort(g.bars.begin(), g.bars.end(), [&](const OverheadBar& a, const OverheadBar& b) {
      auto rank = [&](const std::string& e) { return std::find(data.engines.begin(), data.engines.end(), e) - data.engines.begin(); };
      return rank(a.engine) < rank(b.engine);
    });
    for (const OverheadVerdict& v : data.verdicts) {
      if (v.program == g.program) g.verdict = &v;
    }
  }
  return c;
}

uint32_t engine_color(const std::string& engine) {
  // IM_COL32 layout (ABGR in memory order R, G, B, A).
  auto rgba = [](uint32_t r, uint32_t g, uint32_t b) { return r | (g << 8) | (b << 16) | (0xffu << 24); };
  if (engine == "native") return rgba(0x8c, 0x8c, 0x8c);
  if (engine == "bt") return rgba(0xe6, 0x8a, 0x2e);
  if (engine == "vtx-2006") return rgba(0x3d, 0x7e, 0xd8);
  if (engine == "vtx-ept") return rgba(0x4c, 0xb0, 0x5a);
  const uint32_t h = stable_hash(engine);  // any other label keeps one color
  return rgba(0x60 + (h & 0x7f), 0x60 + ((h >> 8) & 0x7f), 0x60 + ((h >> 16) & 0x7f));
}

}  // namespace hvsim::gui
