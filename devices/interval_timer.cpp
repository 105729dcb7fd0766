#include "devices/interval_timer.hpp"

namespace hvsim {

uint32_t IntervalTimer::read(uint16_t offset, unsigned) {
  if (offset == 0) return period_;
  if (offset == 8) return vector_;
  return 0;
}

void IntervalTimer::write(uint16_t offset, unsigned size, uint32_t value) {
  if (offset == 8 && size == 1) {
    vector_ = static_cast<uint8_t>(value);
    return;
  }
  if (offset != 0 || size != 4) return;
  if (armed_) platform_.cancel_timer(timer_);
  armed_ = false;
  period_ = value;
  if (period_) arm(platform_.now_ns() + period_);
}

void IntervalTimer::arm(uint64_t deadline) {
  armed_ = true;
  timer_ = platform_.arm_timer(
      deadline,
      [this, deadline] {
        ++expiries_;
        platform_.raise_interrupt(vector_);
        arm(deadline + period_);
      },
      [this] { return int{vector_}; });
}

}  // namespace hvsim
