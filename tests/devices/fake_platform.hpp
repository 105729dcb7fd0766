#pragma once
// A Platform for device tests: virtual time set by the test, timers fired on demand.
#include <cstdint>
#include <string>
#include <vector>

#include "core/time/virtual_clock.hpp"
#include "core/vm/platform.hpp"

namespace hvsim::test {
struct FakePlatform : Platform {
  void advance_to(uint64_t t) {
    now = t;
    timers.fire_due(t);
  }
  uint64_t now = 0;
  TimerQueue timers;
  std::string console;
  std::vector<uint8_t> irqs;
  int exit_status = -1;
  uint64_t now_ns() const override { return now; }
  uint64_t arm_timer(uint64_t d, std::function<void()> cb, std::function<int()> raises) override {
    return timers.arm(d, std::move(cb), std::move(raises));
  }
  void cancel_timer(uint64_t id) override { timers.cancel(id); }
  void raise_interrupt(uint8_t v) override { irqs.push_back(v); }
  void request_exit(int s) override { exit_status = s; }
  void console_output(char c) override { console += c; }
  uint8_t cr8 = 0;
  uint8_t task_priority_class() const override { return cr8; }
  void set_task_priority_class(uint8_t cls) override { cr8 = cls & 0xf; }
};

}  // namespace hvsim::test
