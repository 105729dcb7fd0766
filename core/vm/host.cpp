#include "core/vm/host.hpp"

namespace hvsim {

std::vector<RunOutcome> Host::run() {
  std::vector<RunOutcome> outcomes(guests_.size());
  std::vector<bool> running(guests_.size(), true);
  for (size_t left = guests_.size(); left > 0;) {
    for (size_t i = 0; i < guests_.size(); ++i) {
      if (!running[i]) continue;
      Vm& vm = *guests_[i];
      uint64_t now = vm.now_ns();
      RunOutcome out = vm.run(now > UINT64_MAX - slice_ns_ ? UINT64_MAX : now + slice_ns_);
      ++slices_;
      if (out.end == RunEnd::SliceEnded) continue;
      outcomes[i] = out;
      running[i] = false;
      --left;
    }
  }
  return outcomes;
}

}  // namespace hvsim
