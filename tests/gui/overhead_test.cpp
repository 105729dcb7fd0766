#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "app/compare.hpp"
#include "gui/overhead.hpp"
#include "gui/overhead_source.hpp"

using namespace hvsim;
using namespace hvsim::gui;

namespace {

// A compare result as `hvsim compare --json` writes it (app/compare_report.cpp), built from the
// app's own types so the test follows the schema's writer.
std::string sample_json() {
  CompareResult r;
  r.scenario = "nanobench";
  r.profile_name = "p4-2006";
  r.profile_machine = "Pentium 4 672, 3.8 GHz";
  r.clock_ghz = 3.8;
  r.engines = {"native", "bt", "vtx-2006"};
  auto row = [](const char* program, const char* engine, double cycles, double ratio, std::optional<double> paper) {
    CompareRow x;
    x.program = program;
    x.engine = engine;
    x.iterations = 1000;
    x.cycles_per_iteration = cycles;
    x.ratio_to_native = ratio;
    x.paper_cycles = paper;
    x.terms = {CostTerm{"guest instructions", "71 x instruction (1)", 71}, CostTerm{"callouts", "4 x callout", 4000}};
    return x;
  };
  // Rows in another order than the engines: the chart follows the engines' order.
  r.rows = {row("syscall", "bt", 4418, 20.0, 2308), row("syscall", "native", 221, 1, 242),
            row("syscall", "vtx-2006", 228, 1.03, 246), row("in", "native", 3804, 1, 3209),
            row("in", "bt", 1844, 0.48, 216)};
  r.verdicts = {Verdict{"syscall", "vtx-2006", "vtx-2006", true, "as in the paper"}};
  r.notes = {"a note"};
  return compare_json(r);
}

}  // namespace

TEST_CASE("Overhead: a compare result is read back with its rows, verdicts and notes") {
  auto d = parse_overhead(sample_json());
  REQUIRE(d);
  CHECK(d->scenario == "nanobench");
  CHECK(d->profile == "p4-2006");
  CHECK(d->engines == std::vector<std::string>{"native", "bt", "vtx-2006"});
  REQUIRE(d->rows.size() == 5);
  CHECK(d->rows[0].program == "syscall");
  CHECK(d->rows[0].cycles == doctest::Approx(4418));
  CHECK(d->rows[0].paper_cycles == doctest::Approx(2308));
  REQUIRE(d->rows[0].top_terms.size() == 2);
  CHECK(d->rows[0].top_terms[0].first == "callouts");  // largest first
  REQUIRE(d->verdicts.size() == 1);
  CHECK(d->verdicts[0].matches);
  CHECK(d->notes == std::vector<std::string>{"a note"});
}

TEST_CASE("Overhead: the chart groups bars per program in engine order on one log scale") {
  auto d = parse_overhead(sample_json());
  REQUIRE(d);
  const OverheadChart c = chart_overhead(*d);
  CHECK(c.lo == doctest::Approx(100));     // the smallest value shown is 216
  CHECK(c.hi == doctest::Approx(10000));   // the largest is 4418
  CHECK(c.decades().size() == 3);
  REQUIRE(c.groups.size() == 2);
  CHECK(c.groups[0].program == "syscall");
  REQUIRE(c.groups[0].bars.size() == 3);
  CHECK(c.groups[0].bars[0].engine == "native");
  CHECK(c.groups[0].bars[1].engine == "bt");
  CHECK(c.groups[0].bars[2].engine == "vtx-2006");
  REQUIRE(c.groups[0].verdict);
  CHECK(c.groups[1].verdict == nullptr);
  // Log scale: 221 -> log10(2.21)/2, and every bar within 0..1.
  CHECK(c.groups[0].bars[0].length == doctest::Approx(std::log10(2.21) / 2).epsilon(1e-4));
  CHECK(c.groups[0].bars[1].length > c.groups[0].bars[2].length);
  REQUIRE(c.groups[0].bars[1].paper_tick);
  CHECK(*c.groups[0].bars[1].paper_tick < c.groups[0].bars[1].length);  // the paper's bt is cheaper than ours
  CHECK(c.position(0) == 0);
  CHECK(c.position(1e9) == 1);
}

TEST_CASE("Overhead: anything but a compare result is an error that says what is wrong") {
  CHECK(parse_overhead("").error().message == "not JSON");
  CHECK(parse_overhead("[1,2]").error().message.find("JSON object") != std::string::npos);
  CHECK(parse_overhead(R"({"schema":"hvsim-compare/2"})").error().message.find("hvsim-compare/1") != std::string::npos);
  CHECK(parse_overhead(R"({"schema":"hvsim-compare/1","scenario":"x","rows":[]})").error().message.find("rows") !=
        std::string::npos);
  auto bad_cycles = parse_overhead(
      R"({"schema":"hvsim-compare/1","scenario":"x","rows":[{"program":"p","engine":"bt","cycles_per_iteration":-1}]})");
  REQUIRE_FALSE(bad_cycles);
  CHECK(bad_cycles.error().message.find("rows[0]") != std::string::npos);
  auto missing_engine =
      parse_overhead(R"({"schema":"hvsim-compare/1","scenario":"x","rows":[{"program":"p","cycles_per_iteration":1}]})");
  REQUIRE_FALSE(missing_engine);
  CHECK(missing_engine.error().message.find("\"engine\"") != std::string::npos);
  CHECK_FALSE(load_overhead("does-not-exist.json"));
  // Deep nesting and truncation are refused, not crashed on.
  CHECK_FALSE(parse_overhead(std::string(100000, '[')));
  std::string cut = sample_json();
  cut.resize(cut.size() / 2);
  CHECK_FALSE(parse_overhead(cut));
}

TEST_CASE("Overhead: engines keep their colors") {
  CHECK(engine_color("bt") == engine_color("bt"));
  CHECK(engine_color("bt") != engine_color("native"));
  CHECK(engine_color("vtx-2006") != engine_color("vtx-ept"));
  CHECK(engine_color("something-else") == engine_color("something-else"));
}

TEST_CASE("OverheadSource: measuring a scenario runs on its own thread and ends with its chart") {
  OverheadSource source(std::string(HVSIM_TEST_SOURCE_DIR) + "/scenarios/boot.toml", HVSIM_TEST_BUILD_DIR);
  REQUIRE(source.can_measure());
  source.measure({"native", "vtx-ept"}, "p4-2006");
  CHECK(source.state().measuring);
  source.measure({"native"}, "p4-2006");  // one measurement at a time: ignored
  OverheadSource::State st;
  for (int i = 0; i < 600; ++i) {  // at most a minute
    st = source.state();
    if (!st.measuring) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(st.measuring);
  CHECK(st.error.empty());
  REQUIRE(st.data);
  CHECK(st.data->scenario == "boot");
  CHECK(st.data->engines == std::vector<std::string>{"native", "vtx-ept"});
  REQUIRE(st.data->rows.size() == 2);
  CHECK(st.data->rows[1].ratio > 1.0);  // a hypervisor costs something
  CHECK(st.origin == "measured now, profile p4-2006");

  OverheadSource bad(std::string(HVSIM_TEST_SOURCE_DIR) + "/scenarios/isolation.toml", HVSIM_TEST_BUILD_DIR);
  bad.measure({"native"}, "p4-2006");
  for (int i = 0; i < 600 && bad.state().measuring; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(bad.state().error.find("one guest") != std::string::npos);  // compare takes one guest
  CHECK_FALSE(bad.state().data);
  CHECK_FALSE(OverheadSource("", ".").can_measure());
}
