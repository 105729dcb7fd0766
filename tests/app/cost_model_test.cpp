#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "app/compare.hpp"
#include "app/cost_profile_loader.hpp"
#include "core/cost/cost_model.hpp"

using namespace hvsim;
namespace fs = std::filesystem;

namespace {

fs::path profiles_dir() { return fs::path(HVSIM_SOURCE_DIR) / "scenarios/profiles"; }

// A valid profile's text with every parameter at `value`, plus `extra` lines appended.
std::string profile_text(const std::string& extra = "", const std::string& skip = "") {
  std::string s = "name = \"t\"\ndescription = \"test\"\nmachine = \"test machine\"\nclock_ghz = 1.0\n[parameters]\n";
  for (size_t i = 0; i < kCostParameterCount; ++i) {
    const std::string name = cost_parameter_name(static_cast<CostParameter>(i));
    if (name == skip) continue;
    s += name + " = { value = 1, source = \"test\" }\n";
  }
  return s + extra;
}

std::string load_error(const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "hvsim-profile-test";
  fs::create_directories(dir);
  fs::path file = dir / "p.toml";
  std::ofstream(file) << text;
  auto r = load_cost_profile(file.string());
  return r.ok() ? std::string() : r.error().message;
}

CostProfile unit_profile() {
  CostProfile p;
  for (size_t i = 0; i < kCostParameterCount; ++i) p.value[i] = 0;
  return p;
}

void set(CostProfile& p, CostParameter k, double v) { p.value[static_cast<size_t>(k)] = v; }

}  // namespace

TEST_CASE("Cost profiles: every shipped profile loads, every parameter with a value and a source") {
  size_t found = 0;
  for (const auto& e : fs::directory_iterator(profiles_dir())) {
    if (e.path().extension() != ".toml") continue;
    ++found;
    auto p = load_cost_profile(e.path().string());
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message));
    CHECK(p->name == e.path().stem().string());
    CHECK(p->clock_ghz > 0);
    for (size_t i = 0; i < kCostParameterCount; ++i) {
      INFO(cost_parameter_name(static_cast<CostParameter>(i)));
      CHECK(p->source[i].size() > 10);
    }
  }
  CHECK(found == 3);
  for (const char* name : {"p4-2006", "core2-2006", "sandybridge-2011"}) {
    auto p = find_cost_profile(name);
    CHECK_MESSAGE(p.ok(), name);
  }
}

TEST_CASE("Cost profiles: the P4 profile carries Adams & Agesen's Table 1 figures") {
  auto p = find_cost_profile("p4-2006");
  REQUIRE(p.ok());
  CHECK((*p)[CostParameter::vm_entry] == 2409);
  CHECK((*p)[CostParameter::vm_exit] == 1931);
  CHECK((*p)[CostParameter::vmcs_read] == 178);
  CHECK((*p)[CostParameter::vmcs_write] == 171);
  CHECK((*p)[CostParameter::translate_instruction] == 2300);
}

TEST_CASE("Cost profiles: malformed profiles are refused with file and line") {
  CHECK(load_error(profile_text()).empty());
  // A parameter without a source: line 6 is the first parameter after the four header lines
  // and [parameters].
  std::string no_source = profile_text();
  no_source.replace(no_source.find("source = \"test\""), 15, "source = \"  \"");
  CHECK(load_error(no_source).find("p.toml:6: parameter 'instruction' needs a source") != std::string::npos);
  const size_t lines = 5 + kCostParameterCount;
  CHECK(load_error(profile_text("bogus = { value = 1, source = \"x\" }\n"))
            .find("p.toml:" + std::to_string(lines + 1) + ": unknown parameter 'bogus'") != std::string::npos);
  CHECK(load_error(profile_text("", "vm_exit")).find("parameter 'vm_exit' is missing") != std::string::npos);
  std::string negative = profile_text();
  negative.replace(negative.find("value = 1"), 9, "value = -4");
  CHECK(load_error(negative).find("p.toml:6: parameter 'instruction' needs a value") != std::string::npos);
  CHECK(load_error(profile_text("x = [\n")).find("p.toml:") != std::string::npos);  // TOML syntax error
  CHECK(load_error("name = \"t\"\n").find("missing key 'description'") != std::string::npos);
  CHECK(load_error(profile_text("", "") + "unexpected = 1\n").find("unknown parameter 'unexpected'") != std::string::npos);
  CHECK(find_cost_profile("no-such-profile").error().message.find("known: core2-2006, p4-2006, sandybridge-2011") !=
        std::string::npos);
}

TEST_CASE("Cost model: port I/O is an ISA bus cycle natively and the VMM's device model when virtualized") {
  CostProfile p = unit_profile();
  set(p, CostParameter::port_io_isa, 3800);
  set(p, CostParameter::device_emulation, 300);
  EventCounts c{{"port_io", 2}};
  CHECK(total_cycles(cost_terms(c, Technique::Native, p)) == 7600);
  CHECK(total_cycles(cost_terms(c, Technique::HardwareAssist, p)) == 600);
}

TEST_CASE("Cost model: a VM exit costs the transitions, the VMCS accesses and the handler's work") {
  CostProfile p = unit_profile();
  set(p, CostParameter::vm_exit, 1931);
  set(p, CostParameter::vm_entry, 2409);
  set(p, CostParameter::vmcs_read, 178);
  set(p, CostParameter::vmcs_write, 171);
  set(p, CostParameter::vmcs_reads_per_exit, 10);
  set(p, CostParameter::vmcs_writes_per_exit, 2);
  set(p, CostParameter::emulate_instruction, 500);
  set(p, CostParameter::device_emulation, 300);
  set(p, CostParameter::cr8_write, 100);
  set(p, CostParameter::tpr_shadow_write, 90);
  // One CR8 write that exited, one I/O exit: the I/O exit is priced by the device model, not as
  // an emulated instruction.
  EventCounts c{{"vm_exits", 2}, {"trap.MovToCr8", 1}, {"exited.MovToCr8", 1}, {"exited.In", 1}, {"port_io", 1}};
  const double per_exit = 1931 + 2409 + 10 * 178 + 2 * 171;
  CHECK(total_cycles(cost_terms(c, Technique::HardwareAssist, p)) == doctest::Approx(2 * per_exit + 500 + 300));
  // A CR8 write that did not exit runs in VMX non-root operation against the TPR shadow.
  EventCounts shadowed{{"trap.MovToCr8", 3}};
  CHECK(total_cycles(cost_terms(shadowed, Technique::HardwareAssist, p)) == 270);
  CHECK(total_cycles(cost_terms(shadowed, Technique::Native, p)) == 300);
  // Exits are not charged natively, whatever the counts say.
  CHECK(total_cycles(cost_terms(EventCounts{{"vm_exits", 5}}, Technique::Native, p)) == 0);
}

TEST_CASE("Cost model: each term says what was charged and at what price") {
  CostProfile p = unit_profile();
  set(p, CostParameter::shadow_fill, 1500);
  auto terms = cost_terms(EventCounts{{"mem.hidden_faults", 4}}, Technique::HardwareAssist, p);
  REQUIRE(terms.size() == 1);
  CHECK(terms[0].component == "hidden page faults (shadow fills)");
  CHECK(terms[0].formula == "4 x shadow_fill (1500)");
  CHECK(terms[0].cycles == 6000);
}

TEST_CASE("Compare: init command lines become one workload per program") {
  auto w = workloads_of("init syscall 10000 ; in 500 ; selftest ; forkwait 0");
  REQUIRE(w.size() == 4);
  CHECK(w[0].program == "syscall");
  CHECK(w[0].per_iteration);
  CHECK(w[0].iterations == 10000);
  CHECK(w[1].iterations == 500);
  CHECK_FALSE(w[2].per_iteration);
  CHECK(w[2].iterations == 1);
  CHECK_FALSE(w[3].per_iteration);  // zero iterations cannot be divided by
  auto whole = workloads_of("panic-test");
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].program == "(whole run)");
  CHECK(workloads_of("init 99999999999999999999 x")[0].program == "99999999999999999999");
  CHECK_FALSE(workloads_of("init prog 99999999999999999999")[0].per_iteration);
}

TEST_CASE("Compare: engines are named as in the paper's comparison") {
  CHECK(engine_choice("vtx-2006")->preset == "vtx-2006");
  CHECK(engine_choice("native")->engine == "native");
  CHECK(engine_choice("bt")->engine == "bt");
  CHECK(default_compare_engines() == std::vector<std::string>{"native", "bt", "vtx-2006", "vtx-ept"});
  CHECK_FALSE(engine_choice("vmware").ok());
  REQUIRE(published_row("ptemod"));
  CHECK(published_row("ptemod")->vt == 12733);
  CHECK(published_row("forkwait")->seconds);
}
