// The guest kernel under the vtx engine: the same console output as native under both presets,
// and exits that follow the instruction stream (the nanobenchmarks' per-iteration exits).
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include "app/initrd.hpp"
#include "app/machine_builder.hpp"
#include "app/scenario.hpp"
#include "hwassist/vtx_engine.hpp"

using namespace hvsim;
using vmx::ExitReason;

namespace {

struct GuestRun {
  RunOutcome out;
  std::string console;
  vmx::ExitCounts exits;
};

GuestRun run(const GuestSpec& g, const std::string& engine, const std::string& preset) {
  auto files = initrd_files_from_paths(g.programs);
  REQUIRE(files.ok());
  auto initrd = pack_initrd(*files);
  REQUIRE(initrd.ok());
  auto image = read_file(g.kernel, 64u << 20);
  REQUIRE(image.ok());
  MachineOptions opt;
  opt.kernel_path = g.kernel;
  opt.cmdline = g.cmdline;
  opt.ram_bytes = g.memory_mib << 20;
  opt.max_instructions = g.max_instructions;
  opt.engine = engine;
  opt.preset = preset;
  auto m = build_machine(opt, *image, *initrd);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  GuestRun r;
  (*m)->vm->set_console([&r](char c) { r.console.push_back(c); });
  r.out = (*m)->vm->run();
  if (auto* vtx = dynamic_cast<vmx::VtxEngine*>((*m)->engine.get())) r.exits = vtx->exits(*(*m)->vm);
  return r;
}

GuestSpec scenario_guest(const std::string& name) {
  auto s = load_scenario(HVSIM_SOURCE_DIR "/scenarios/" + name + ".toml", HVSIM_BUILD_DIR);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return s->guests[0];
}

}  // namespace

TEST_CASE("VtxKernel: the guest kernel's scenarios print the same console under vtx as under native") {
  for (const char* scenario : {"selftest", "nanobench", "forkwait"}) {
    const std::string name = scenario;
    GuestSpec g = scenario_guest(name);
    GuestRun native = run(g, "native", "");
    REQUIRE(native.out.end == RunEnd::Exited);
    CHECK(native.out.exit_status == 0);
    for (const char* preset : {"vtx-2006", "vtx-ept"}) {
      const std::string preset_name = preset;
      CAPTURE(name);
      CAPTURE(preset_name);
      GuestRun vtx = run(g, "vtx", preset);
      CHECK(vtx.out.end == RunEnd::Exited);
      CHECK(vtx.out.exit_status == 0);
      CHECK(vtx.console == native.console);
      CHECK(vtx.exits.total > 0);
    }
  }
}

// Exits per iteration of each nanobenchmark, from two runs (N and 2N) so that boot, program
// loading and printing cancel out. Timer interrupts (and the HLTs and interrupt windows that
// come with them) follow virtual time, not iterations; each tick's EOI is one MMIO write (an
// EPT violation under vtx-ept, a #PF under vtx-2006's shadow paging), allowed for per tick.
// Everything else must be exactly the table's count per iteration.
TEST_CASE("VtxKernel: each nanobenchmark iteration makes exactly the exits its instruction stream implies") {
  using Expect = std::map<ExitReason, uint64_t>;
  struct Row {
    const char* program;
    Expect vtx_2006, vtx_ept;
  };
  const Row rows[] = {
      {"syscall", {}, {}},  // SYSCALL and SYSRET never exit
      {"in", {{ExitReason::IoInstruction, 1}}, {{ExitReason::IoInstruction, 1}}},
      {"cr8write", {{ExitReason::CrAccess, 1}}, {}},             // the TPR shadow absorbs CR8 writes
      {"callret", {}, {}},
      {"pgfault", {{ExitReason::ExceptionOrNmi, 1}}, {}},       // #PF is in vtx-2006's exception bitmap
      {"divzero", {}, {}},                                      // #DE is in neither bitmap
      {"ptemod", {{ExitReason::ExceptionOrNmi, 1}}, {}},        // a traced page-table write, or nothing under EPT
  };
  const std::set<ExitReason> time_driven = {ExitReason::ExternalInterrupt, ExitReason::InterruptWindow, ExitReason::Hlt};
  constexpr uint64_t kN = 1000;
  for (const Row& row : rows) {
    for (const char* preset : {"vtx-2006", "vtx-ept"}) {
      const std::string program = row.program, preset_name = preset;
      CAPTURE(program);
      CAPTURE(preset_name);
      GuestSpec g;
      g.kernel = HVSIM_BUILD_DIR "/guest/kernel/kernel.elf";
      g.programs = {HVSIM_BUILD_DIR "/guest/user/" + std::string(row.program)};
      g.max_instructions = 200'000'000;
      g.cmdline = std::string(row.program) + " " + std::to_string(kN);
      GuestRun one = run(g, "vtx", preset);
      g.cmdline = std::string(row.program) + " " + std::to_string(2 * kN);
      GuestRun two = run(g, "vtx", preset);
      REQUIRE(one.out.exit_status == 0);
      REQUIRE(two.out.exit_status == 0);
      const bool y2006 = preset_name == "vtx-2006";
      const Expect& want = y2006 ? row.vtx_2006 : row.vtx_ept;
      const auto interrupts = static_cast<unsigned>(ExitReason::ExternalInterrupt);
      const uint64_t ticks = two.exits.by_reason[interrupts] - one.exits.by_reason[interrupts];
      const ExitReason mmio = y2006 ? ExitReason::ExceptionOrNmi : ExitReason::EptViolation;
      for (unsigned reason = 0; reason < vmx::kExitReasonSlots; ++reason) {
        auto r = static_cast<ExitReason>(reason);
        if (time_driven.count(r)) continue;
        const std::string name = vmx::exit_reason_name(reason);
        CAPTURE(name);
        uint64_t extra = two.exits.by_reason[reason] - one.exits.by_reason[reason];
        auto it = want.find(r);
        CAPTURE(ticks);
        const uint64_t per_iteration = (it == want.end() ? 0 : it->second) * kN;
        if (r == mmio) {
          // Each tick's EOI, and under shadow paging the handler's first use of a deeper
          // kernel-stack page (a read miss, then the first write): at most three per tick.
          CHECK(extra >= per_iteration + ticks);
          CHECK(extra <= per_iteration + 3 * ticks);
        } else {
          CHECK(extra == per_iteration);
        }
      }
    }
  }
}
