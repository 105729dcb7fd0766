#include "gui/sim_session.hpp"

#include "app/compare.hpp"

namespace hvsim::gui {

std::string describe_end(const RunOutcome& out) {
  if (out.end == RunEnd::Exited) return "exited with status " + std::to_string(out.exit_status);
  std::string s = run_end_name(out.end);
  if (!out.detail.empty()) s += ": " + out.detail;
  return s;
}

SimSession::~SimSession() {
  // The machines point into the pool and the log: they go first.
  guests_.clear();
}

Result<std::unique_ptr<SimSession>> SimSession::create(const LaunchPlan& plan, const EngineSetup& setup) {
  if (std::string problem = engine_setup_problem(setup); !problem.empty()) return make_error(problem);
  auto choice = engine_choice(setup.engine);
  if (!choice) return choice.error();
  std::unique_ptr<SimSession> s(new SimSession());
  s->setup_ = setup;
  uint64_t pool_bytes = 0;
  for (const GuestLaunch& g : plan.guests) pool_bytes += machine_bytes_for(g.options.ram_bytes);
  s->pool_ = std::make_unique<MachineMemory>(pool_bytes);
  s->log_ = std::make_unique<EventLog>();
  EventHistory* history = &s->history_;
  s->log_->set_observer([history](const LogRecord& r) { history->add(r); });
  for (const GuestLaunch& g : plan.guests) {
    MachineOptions o = g.options;
    o.engine = choice->engine;
    o.preset = choice->preset;
    o.paging_given = setup.paging.has_value();
    if (setup.paging) o.paging = *setup.paging;
    auto m = build_guest(*s->pool_, *s->log_, o, g.image, g.initrd);
    if (!m) return make_error("guest " + o.name + ": " + m.error().message);
    s->guests_.push_back(GuestRun{std::move(*m), {}, 0, false, {}});
  }
  // Set once every guest is in place: the vector no longer moves.
  for (GuestRun& run : s->guests_) {
    GuestRun* r = &run;
    r->machine->vm->set_console([r](char c) {
      ++r->console_bytes;
      r->console.push_back(c);
      if (r->console.size() > 2 * kConsoleKeep) r->console.erase(0, r->console.size() - kConsoleKeep);
    });
  }
  if (!s->guests_.empty()) s->paging_ = s->guests_.front().machine->vm->config().paging;
  s->map_ = std::make_shared<const MachineMap>(map_machine(*s->pool_));
  return s;
}

bool SimSession::run_slice(uint64_t slice_ns) {
  for (GuestRun& g : guests_) {
    if (g.ended) continue;
    Vm& vm = *g.machine->vm;
    const uint64_t now = vm.now_ns();
    RunOutcome out = vm.run(now > UINT64_MAX - slice_ns ? UINT64_MAX : now + slice_ns);
    if (out.end == RunEnd::SliceEnded) continue;
    g.ended = true;
    g.outcome = out;
  }
  ++slices_;
  return !all_ended();
}

bool SimSession::all_ended() const {
  for (const GuestRun& g : guests_) {
    if (!g.ended) return false;
  }
  return true;
}

uint64_t SimSession::max_now_ns() const {
  uint64_t t = 0;
  for (const GuestRun& g : guests_) t = std::max(t, g.machine->vm->now_ns());
  return t;
}

}  // namespace hvsim::gui
