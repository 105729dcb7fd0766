#include "gui/timeline.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace hvsim::gui {

int lane_rank(const std::string& kind) {
  // The guest's own events, then what the hypervisor did about them (exits, callouts), then
  // the ends of runs.
  static constexpr std::array<std::string_view, 10> kOrder = {
      "exception", "interrupt", "software_interrupt", "isolation", "exit ", "callout ",
      "halt_forever", "exception_storm", "triple_fault", "log_end"};
  for (size_t i = 0; i < kOrder.size(); ++i) {
    const bool prefix = kOrder[i].back() == ' ';
    if (prefix ? kind.starts_with(kOrder[i]) : kind == kOrder[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kOrder.size());
}

std::optional<unsigned> TimelineBins::bin_of(uint64_t t) const {
  if (t < t0 || t >= t1 || bins == 0) return std::nullopt;
  auto b = static_cast<unsigned>((static_cast<unsigned __int128>(t - t0) * bins) / (t1 - t0));
  return std::min(b, bins - 1);
}

uint64_t TimelineBins::bin_start(unsigned bin) const {
  return t0 + static_cast<uint64_t>((static_cast<unsigned __int128>(t1 - t0) * bin) / std::max(bins, 1u));
}

TimelineBins bin_timeline(const EventWindow& events, std::optional<uint16_t> guest, uint64_t t0, uint64_t t1,
                          unsigned bins) {
  TimelineBins out;
  out.t0 = t0;
  out.t1 = std::max(t1, t0 + 1);
  out.bins = bins;
  if (bins == 0) return out;
  // Every kind seen gets a lane, even when the window holds none of it: lanes do not jump.
  for (size_t k = 0; k < events.kinds->size(); ++k) {
    out.lanes.push_back(TimelineLane{static_cast<uint16_t>(k), (*events.kinds)[k], std::vector<uint32_t>(bins, 0), 0});
  }
  events.for_each([&](const EventItem& e) {
    if (guest && e.guest != *guest) return;
    auto b = out.bin_of(e.time_ns);
    if (!b || e.kind >= out.lanes.size()) return;
    TimelineLane& l = out.lanes[e.kind];
    out.max_count = std::max(out.max_count, ++l.counts[*b]);
    ++l.total;
  });
  std::sort(out.lanes.begin(), out.lanes.end(), [](const TimelineLane& a, const TimelineLane& b) {
    const int ra = lane_rank(a.name), rb = lane_rank(b.name);
    return ra != rb ? ra < rb : a.name < b.name;
  });
  return out;
}

}  // namespace hvsim::gui
