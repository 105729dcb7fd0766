#include "gui/sim_thread.hpp"

#include <algorithm>

#include "gui/guest_capture.hpp"

namespace hvsim::gui {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPublishInterval = std::chrono::milliseconds(16);  // a 60 Hz display
constexpr uint64_t kMinSliceNs = 1000;

}  // namespace

SimThread::SimThread(LaunchPlan plan, const SimStart& start)
    : plan_(std::move(plan)),
      mode_(start.paused ? SimMode::Paused : SimMode::Running),
      speed_(start.speed),
      pause_at_ns_(start.pause_at_ns),
      walks_(plan_.guests.size(), start.walk),
      translations_(plan_.guests.size()),
      thread_([this, setup = start.setup] {
        rebuild(setup, mode_);
        loop();
      }) {}

SimThread::~SimThread() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<const Snapshot> SimThread::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::shared_ptr<const Snapshot> SimThread::wait_for(const std::function<bool(const Snapshot&)>& done,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  published_.wait_for(lock, timeout, [&] { return latest_ && done(*latest_); });
  return latest_;
}

void SimThread::run() {
  std::lock_guard lock(mutex_);
  requests_.run = true;
  requests_.pause = false;
  wake_.notify_all();
}
void SimThread::pause() {
  std::lock_guard lock(mutex_);
  requests_.pause = true;
  requests_.run = false;
  wake_.notify_all();
}
void SimThread::step() {
  std::lock_guard lock(mutex_);
  requests_.step = true;
  wake_.notify_all();
}
void SimThread::reset(const EngineSetup& setup) {
  std::lock_guard lock(mutex_);
  requests_.reset = setup;
  wake_.notify_all();
}
void SimThread::set_speed(double virtual_per_wall) {
  std::lock_guard lock(mutex_);
  requests_.speed = std::max(0.0, virtual_per_wall);
  wake_.notify_all();
}
void SimThread::select_walk(size_t guest, std::optional<WalkQuery> query) {
  std::lock_guard lock(mutex_);
  requests_.walks.emplace_back(guest, query);
  wake_.notify_all();
}

void SimThread::select_translation(size_t guest, std::optional<uint64_t> guest_rip) {
  std::lock_guard lock(mutex_);
  requests_.translations.emplace_back(guest, guest_rip);
  wake_.notify_all();
}

void SimThread::rebuild(const EngineSetup& setup, SimMode then) {
  session_.reset();  // the old host's frames go back before the new one takes its own
  auto s = SimSession::create(plan_, setup);
  if (s) {
    session_ = std::move(*s);
    build_error_.clear();
    mode_ = then;
  } else {
    build_error_ = s.error().message;
    mode_ = SimMode::Ended;
  }
  register_trail_.clear();
  ++generation_;
  restart_pacing();
  publish();
}

void SimThread::restart_pacing() {
  pace_wall0_ = Clock::now();
  pace_virtual0_ = session_ ? session_->max_now_ns() : 0;
}

uint64_t SimThread::slice_ns() const {
  if (speed_ <= 0) return plan_.slice_ns;
  // Slow motion: slices no longer than one display frame's worth of virtual time, so the
  // picture moves smoothly.
  const auto per_frame = static_cast<uint64_t>(speed_ * 1e9 / 60.0);
  return std::clamp<uint64_t>(per_frame, kMinSliceNs, plan_.slice_ns);
}

void SimThread::apply(Requests& r, bool& publish_now) {
  if (r.reset) {
    rebuild(*r.reset, SimMode::Paused);
  }
  if (r.speed) {
    speed_ = *r.speed;
    restart_pacing();
    publish_now = true;
  }
  for (auto& [guest, query] : r.walks) {
    if (guest < walks_.size()) walks_[guest] = query;
    publish_now = true;
  }
  for (auto& [guest, rip] : r.translations) {
    if (guest < translations_.size()) translations_[guest] = rip;
    publish_now = true;
  }
  if (!session_) return;
  if (r.pause && mode_ == SimMode::Running) {
    mode_ = SimMode::Paused;
    publish_now = true;
  }
  if (r.run && mode_ == SimMode::Paused && !session_->all_ended()) {
    mode_ = SimMode::Running;
    pause_at_ns_ = 0;  // the trainer took over
    restart_pacing();
    publish_now = true;
  }
  if (r.step && !session_->all_ended()) {
    mode_ = SimMode::Paused;
    session_->run_slice(1);
    publish_now = true;
  }
  if (session_->all_ended()) mode_ = SimMode::Ended;
}

void SimThread::run_one_slice() {
  session_->run_slice(slice_ns());
  if (session_->all_ended()) {
    mode_ = SimMode::Ended;
    publish();
    return;
  }
  if (pause_at_ns_ && session_->max_now_ns() >= pause_at_ns_) {
    pause_at_ns_ = 0;
    mode_ = SimMode::Paused;
    publish();
    return;
  }
  if (Clock::now() - last_publish_ >= kPublishInterval) publish();
}

void SimThread::loop() {
  for (;;) {
    Requests r;
    {
      std::unique_lock lock(mutex_);
      if (mode_ != SimMode::Running) {
        wake_.wait(lock, [&] { return quit_ || requests_.any(); });
      } else if (speed_ > 0 && session_) {
        // Slow motion: wait until wall-clock time catches up with virtual time (or a command).
        const double virtual_ns = static_cast<double>(session_->max_now_ns() - pace_virtual0_);
        const auto due = pace_wall0_ + std::chrono::nanoseconds(static_cast<int64_t>(virtual_ns / speed_));
        wake_.wait_until(lock, due, [&] { return quit_ || requests_.any(); });
      }
      if (quit_) return;
      std::swap(r, requests_);
    }
    bool publish_now = false;
    apply(r, publish_now);
    if (publish_now) publish();
    if (mode_ == SimMode::Running && session_) run_one_slice();
  }
}

void SimThread::publish() {
  auto snap = std::make_shared<Snapshot>();
  snap->sequence = ++sequence_;
  snap->generation = generation_;
  snap->mode = mode_;
  snap->title = plan_.title;
  snap->speed = speed_;
  snap->error = build_error_;
  if (session_) {
    snap->paging = session_->paging();
    snap->setup = session_->setup();
    snap->slices = session_->slices();
    snap->events = session_->history().window();
    snap->counts_by_kind = session_->log().counts_by_kind();
    snap->machine = session_->machine_map();
    for (size_t i = 0; i < session_->guest_count(); ++i) {
      CaptureRequest req;
      if (i < walks_.size()) req.walk = walks_[i];
      if (i < translations_.size()) req.translation_at = translations_[i];
      GuestSnapshot g = capture_guest(session_->vm(i), session_->pool(), req);
      const GuestRun& run = session_->guest(i);
      g.ended = run.ended;
      g.end_text = run.ended ? describe_end(run.outcome) : "";
      const size_t keep = std::min(run.console.size(), SimSession::kConsoleKeep);
      g.console = run.console.substr(run.console.size() - keep);
      g.console_bytes = run.console_bytes;
      register_trail_.update(i, g);
      snap->guests.push_back(std::move(g));
    }
  }
  last_publish_ = Clock::now();
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(snap);
  }
  published_.notify_all();
}

}  // namespace hvsim::gui
