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
  Id arm(uint64_t deadline_ns, Callback cb) {
    Id id = next_id_++;
    timers_.emplace(std::make_pair(deadline_ns, id), std::move(cb));
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
      auto cb = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      cb();
    }
  }

 private:
  std::map<std::pair<uint64_t, Id>, Callback> timers_;
  Id next_id_ = 1;
};

}  // namespace hvsim
