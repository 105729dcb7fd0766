#pragma once
// Virtual time: guest instructions retired plus time skipped while halted, at a nominal 1 GHz
// (one instruction = one nanosecond = one TSC tick). Identical in every engine, so runs are
// deterministic. Timers fire in (deadline, order of arming) order.
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace hvsim {

constexpr uint64_t kNominalHz = 1'000'000'000;

class TimerQueue {
 public:
  using Callback = std::function<void()>;
  using Id = uint64_t;
  // What a timer will do to the CPU when it fires, asked as things stand when asked: the
  // interrupt vector it will raise, or kRaisesNothing. A halted vCPU needs it to tell a timer
  // that can wake it from one it can never take (docs/architecture.md). A timer armed without
  // one may raise anything.
  using Raises = std::function<int()>;
  static constexpr int kRaisesNothing = -1;

  Id arm(uint64_t deadline_ns, Callback cb, Raises raises = {}) {
    Id id = next_id_++;
    timers_.emplace(std::make_pair(deadline_ns, id), Timer{std::move(cb), std::move(raises)});
    return id;
  }
  void cancel(Id id) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  bool empty() const { return timers_.empty(); }
  uint64_t next_deadline() const { return timers_.empty() ? UINT64_MAX : timers_.begin()->first.first; }
  // Runs every timer due at `now` (callbacks may arm new ones).
  void fire_due(uint64_t now) {
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto cb = std::move(timers_.begin()->second.cb);
      timers_.erase(timers_.begin());
      cb();
    }
  }
  // Whether some armed timer may raise a vector for which `takes(vector)` holds (a timer that
  // does not say what it raises may).
  template <typename Pred>
  bool any_may_raise(Pred&& takes) const {
    for (const auto& [key, t] : timers_) {
      if (!t.raises) return true;
      const int v = t.raises();
      if (v != kRaisesNothing && takes(v)) return true;
    }
    return false;
  }

 private:
  struct Timer {
    Callback cb;
    Raises raises;
  };
  std::map<std::pair<uint64_t, Id>, Timer> timers_;
  Id next_id_ = 1;
};

}  // namespace hvsim
