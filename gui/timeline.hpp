#pragma once
// The trap timeline's data: events of one guest (or all) in a window of virtual time, counted
// per lane (event kind) and per bin (a slice of the window as wide as a few pixels).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gui/event_history.hpp"

namespace hvsim::gui {

struct TimelineLane {
  uint16_t kind = 0;
  std::string name;
  std::vector<uint32_t> counts;  // per bin
  uint64_t total = 0;            // in the window
};

struct TimelineBins {
  uint64_t t0 = 0, t1 = 0;       // [t0, t1) virtual ns
  unsigned bins = 0;
  std::vector<TimelineLane> lanes;  // every kind seen so far, in a stable order
  uint32_t max_count = 0;
  // The bin holding `t`, or nullopt outside the window.
  std::optional<unsigned> bin_of(uint64_t t) const;
  uint64_t bin_start(unsigned bin) const;
};

// `guest`: only that guest's events (an index into the window's guests), or all.
TimelineBins bin_timeline(const EventWindow& events, std::optional<uint16_t> guest, uint64_t t0, uint64_t t1,
                          unsigned bins);

// The window of virtual time ending at `now` and `span` wide (starting at 0 early on).
inline uint64_t window_start(uint64_t now, uint64_t span) { return now > span ? now - span : 0; }

// Lanes are ordered by this rank (known kinds first, in an order that reads like the story),
// then by name.
int lane_rank(const std::string& kind);

}  // namespace hvsim::gui
