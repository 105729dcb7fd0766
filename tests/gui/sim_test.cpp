#include <doctest/doctest.h>

#include <chrono>

#include "gui/guest_capture.hpp"
#include "gui/launch.hpp"
#include "gui/sim_session.hpp"
#include "gui/sim_thread.hpp"

using namespace hvsim;
using namespace hvsim::gui;
using namespace std::chrono_literals;

namespace {

const std::string kGuests = HVSIM_TEST_FLAT_GUEST_DIR;

LaunchPlan flat_plan(const std::string& guest, PagingMode paging = PagingMode::Native, std::string engine = "") {
  GuiOptions o;
  o.machine.image_path = kGuests + "/" + guest + ".bin";
  o.paging = paging;
  o.engine = std::move(engine);
  auto plan = plan_launch(o, ".");
  REQUIRE(plan);
  return std::move(*plan);
}

}  // namespace

TEST_CASE("Launch: bad input is an error that names it, not a crash") {
  GuiOptions o;
  o.machine.image_path = "does-not-exist.bin";
  auto plan = plan_launch(o, ".");
  REQUIRE_FALSE(plan);
  CHECK(plan.error().message.find("does-not-exist.bin") != std::string::npos);
  CHECK_FALSE(plan_launch(GuiOptions{}, "."));
  GuiOptions s;
  s.scenario_path = "no-such-scenario.toml";
  CHECK_FALSE(plan_launch(s, "."));
}

TEST_CASE("SimSession: a guest runs in slices of virtual time and its events are kept") {
  auto session = SimSession::create(flat_plan("timer_det"), EngineSetup{"native", PagingMode::Native});
  REQUIRE(session);
  SimSession& s = **session;
  CHECK(s.max_now_ns() == 0);
  CHECK(s.run_slice(50'000));
  const uint64_t t = s.max_now_ns();
  CHECK(t >= 50'000);
  while (s.run_slice(100'000)) {
  }
  CHECK(s.all_ended());
  CHECK(describe_end(s.guest(0).outcome) == "exited with status 0");
  CHECK(s.history().total() > 0);
  CHECK(s.log().counts_by_kind().at("interrupt") >= 20);
  CHECK(s.guest(0).console_bytes > 0);
  CHECK(s.machine_map()->owners == std::vector<std::string>{"guest0"});
}

TEST_CASE("SimSession: under EPT the captured walk at RIP draws every reference the MMU counts") {
  auto session = SimSession::create(flat_plan("pf_codes", PagingMode::Ept), EngineSetup{"native", PagingMode::Ept});
  REQUIRE(session);
  SimSession& s = **session;
  s.run_slice(10'000);
  const GuestSnapshot g = capture_guest(s.vm(0), s.pool(), CaptureRequest{});
  REQUIRE(g.walk.valid);
  CHECK(g.walk.mode == PagingMode::Ept);
  CHECK(g.walk.query.va == g.regs.rip);
  CHECK(g.walk.has_mpa);
  CHECK(g.walk.mpa_owner == "guest0");
  CHECK(g.walk.drawn_references() == g.walk.references);
  CHECK(g.walk.rows.back().final_row);
  REQUIRE_FALSE(g.code.empty());
  bool at_rip = false;
  for (const DisasmLine& l : g.code) at_rip |= l.at_rip && l.address == g.regs.rip;
  CHECK(at_rip);
  CHECK(s.machine_map()->owners == std::vector<std::string>{"vmm/guest0", "guest0"});
}

TEST_CASE("Launch: the engine comes from the command line, else the scenario; vtx needs virtual memory") {
  CHECK(flat_plan("timer_det").setup == EngineSetup{"native", PagingMode::Native});
  CHECK(flat_plan("timer_det", PagingMode::Shadow, "bt").setup.engine == "bt");
  GuiOptions o;
  o.machine.image_path = kGuests + "/timer_det.bin";
  o.engine = "vmware";
  auto unknown = plan_launch(o, ".");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("unknown engine 'vmware'") != std::string::npos);
  o.engine = "vtx-2006";
  o.paging = PagingMode::Native;
  auto native_vtx = plan_launch(o, ".");
  REQUIRE_FALSE(native_vtx);
  CHECK(native_vtx.error().message.find("virtualizes memory") != std::string::npos);
  o.paging.reset();
  auto vtx = plan_launch(o, ".");
  REQUIRE(vtx);
  CHECK(vtx->setup == EngineSetup{"vtx-2006", std::nullopt});
  // The vtx preset picks its paging (vtx-2006: shadow, as first-generation VT-x had no EPT).
  auto session = SimSession::create(*vtx, vtx->setup);
  REQUIRE(session);
  CHECK((*session)->paging() == PagingMode::Shadow);
  CHECK_FALSE(SimSession::create(*vtx, EngineSetup{"vtx-ept", PagingMode::Native}));
}

TEST_CASE("SimSession: under vtx every VM exit is an event with a lane of its own per exit reason") {
  auto session = SimSession::create(flat_plan("timer_det"), EngineSetup{"vtx-2006", std::nullopt});
  REQUIRE(session);
  SimSession& s = **session;
  while (s.run_slice(100'000)) {
  }
  CHECK(describe_end(s.guest(0).outcome) == "exited with status 0");
  const uint64_t exits = s.log().counts_by_kind().at("vm_exit");
  CHECK(exits > 20);
  const EventWindow w = s.history().window();
  uint64_t in_exit_lanes = 0;
  w.for_each([&](const EventItem& e) { in_exit_lanes += w.kind_name(e.kind).starts_with("exit ") ? 1 : 0; });
  CHECK(in_exit_lanes == exits);
  bool io_lane = false;
  for (const std::string& k : *w.kinds) io_lane |= k == "exit I/O instruction";
  CHECK(io_lane);  // the guest programs its timer with OUT
}

TEST_CASE("SimSession: under bt callouts are events, and the code at RIP is shown beside its translation") {
  auto session = SimSession::create(flat_plan("timer_det", PagingMode::Shadow, "bt"), EngineSetup{"bt", std::nullopt});
  REQUIRE(session);
  SimSession& s = **session;
  CHECK(s.paging() == PagingMode::Shadow);  // bt's default: Adams & Agesen's VMM used shadow tables
  s.run_slice(20'000);
  REQUIRE_FALSE(s.all_ended());
  CHECK(s.log().counts_by_kind().at("callout") > 0);
  const EventWindow w = s.history().window();
  bool sensitive_lane = false;
  for (const std::string& k : *w.kinds) sensitive_lane |= k == "callout Sensitive";
  CHECK(sensitive_lane);
  bool named = false;  // each callout record names the guest instruction, not the cache's
  w.for_each([&](const EventItem& e) {
    if (w.kind_name(e.kind) == "callout Sensitive") named |= e.details.find("instruction=") != std::string::npos;
    CHECK(e.rip < 0xffffffffff000000ull);  // never a translation-cache address
  });
  CHECK(named);

  const GuestSnapshot g = capture_guest(s.vm(0), s.pool(), CaptureRequest{});
  REQUIRE(g.translation.state == TranslationView::State::Translated);
  CHECK(g.translation.guest_rip == g.regs.rip);
  CHECK(g.translation.tc_address >= 0xffffffffff000000ull);
  CHECK_FALSE(g.translation.stale);
  REQUIRE_FALSE(g.translation.lines.empty());
  bool rip_line = false;
  for (const bt::ExplainLine& l : g.translation.lines) {
    rip_line |= l.guest_rip == g.regs.rip;
    CHECK_FALSE(l.translation.empty());
    CHECK_FALSE(l.why.empty());
  }
  CHECK(rip_line);
  // A picked instruction shows its own fragment; code never run shows none.
  CaptureRequest pick;
  pick.translation_at = g.translation.guest_begin;
  const TranslationView picked = capture_guest(s.vm(0), s.pool(), pick).translation;
  CHECK(picked.state == TranslationView::State::Translated);
  CHECK(picked.guest_rip == g.translation.guest_begin);
  CHECK(picked.at_rip == (g.translation.guest_begin == g.regs.rip));
  CHECK(picked.tc_address == g.translation.tc_address);
  pick.translation_at = 0x100001;  // inside the first instruction: no instruction starts there
  CHECK(capture_guest(s.vm(0), s.pool(), pick).translation.state == TranslationView::State::NotTranslated);
  // Another engine shows no translation.
  auto native = SimSession::create(flat_plan("timer_det"), EngineSetup{"native", std::nullopt});
  REQUIRE(native);
  (*native)->run_slice(20'000);
  CHECK(capture_guest((*native)->vm(0), (*native)->pool(), CaptureRequest{}).translation.state ==
        TranslationView::State::NotBt);
}

TEST_CASE("SimThread: steps, runs to the end, and resets into another paging mode") {
  SimStart start;
  start.paused = true;
  SimThread sim(flat_plan("timer_det"), start);
  auto first = sim.wait_for([](const Snapshot&) { return true; }, 30s);
  REQUIRE(first);
  REQUIRE(first->error.empty());
  CHECK(first->mode == SimMode::Paused);
  CHECK(first->guests.at(0).instructions == 0);

  sim.step();
  auto stepped = sim.wait_for([](const Snapshot& s) { return s.guests.at(0).instructions > 0; }, 30s);
  CHECK(stepped->guests.at(0).instructions > 0);
  CHECK(stepped->guests.at(0).has_prev);  // the step changed RIP at least
  CHECK(stepped->mode == SimMode::Paused);

  sim.run();
  auto ended = sim.wait_for([](const Snapshot& s) { return s.mode == SimMode::Ended; }, 60s);
  CHECK(ended->mode == SimMode::Ended);
  CHECK(ended->guests.at(0).end_text == "exited with status 0");
  CHECK(ended->counts_by_kind.at("interrupt") >= 20);

  sim.reset(EngineSetup{"native", PagingMode::Shadow});
  auto reset = sim.wait_for([&](const Snapshot& s) { return s.generation > ended->generation; }, 30s);
  CHECK(reset->paging == PagingMode::Shadow);
  CHECK(reset->setup.engine == "native");
  CHECK(reset->mode == SimMode::Paused);
  CHECK(reset->guests.at(0).instructions == 0);
  CHECK(reset->events.total == 0);

  sim.reset(EngineSetup{"bt", std::nullopt});
  auto bt = sim.wait_for([&](const Snapshot& s) { return s.generation > reset->generation; }, 30s);
  CHECK(bt->setup.engine == "bt");
  CHECK(bt->paging == PagingMode::Shadow);
  sim.run();
  auto bt_ended = sim.wait_for([](const Snapshot& s) { return s.mode == SimMode::Ended; }, 60s);
  CHECK(bt_ended->guests.at(0).end_text == "exited with status 0");
  CHECK(bt_ended->counts_by_kind.at("callout") > 0);
}

TEST_CASE("SimThread: pauses where asked and shows the address picked") {
  SimStart start;
  start.pause_at_ns = 30'000;
  start.walk = WalkQuery{0x100000, Access::Read, 0};
  SimThread sim(flat_plan("de_loop"), start);
  auto paused = sim.wait_for([](const Snapshot& s) { return s.mode != SimMode::Running; }, 30s);
  REQUIRE(paused);
  CHECK(paused->mode == SimMode::Paused);
  CHECK(paused->guests.at(0).now_ns >= 30'000);
  CHECK(paused->guests.at(0).walk.query.va == 0x100000);
  sim.select_walk(0, WalkQuery{0x200000, Access::Write, 0});
  auto moved = sim.wait_for([](const Snapshot& s) { return s.guests.at(0).walk.query.va == 0x200000; }, 30s);
  CHECK(moved->guests.at(0).walk.query.access == Access::Write);
  CHECK(moved->guests.at(0).now_ns == paused->guests.at(0).now_ns);  // picking an address runs nothing
}

TEST_CASE("SimSession: several guests share one machine pool and run in turn") {
  LaunchPlan plan = flat_plan("timer_det");
  LaunchPlan second = flat_plan("de_loop");
  plan.guests[0].options.name = std::string("a");
  second.guests[0].options.name = std::string("b");
  plan.guests.push_back(std::move(second.guests[0]));
  auto session = SimSession::create(plan, EngineSetup{"native", PagingMode::Ept});
  REQUIRE(session);
  SimSession& s = **session;
  s.run_slice(20'000);
  CHECK(s.vm(0).now_ns() >= 20'000);
  CHECK(s.vm(1).now_ns() >= 20'000);
  CHECK(s.machine_map()->owners == std::vector<std::string>{"vmm/a", "a", "vmm/b", "b"});
  CHECK(s.vm(1).ram().machine_address() > s.vm(0).ram().machine_address());
}
