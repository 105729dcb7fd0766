#include <doctest/doctest.h>

#include "gui/event_history.hpp"
#include "gui/timeline.hpp"

using namespace hvsim;
using namespace hvsim::gui;

namespace {

LogRecord record(uint64_t t, const std::string& guest, const std::string& kind) {
  LogRecord r;
  r.time_ns = t;
  r.guest = guest;
  r.kind = kind;
  return r;
}

}  // namespace

TEST_CASE("Timeline: events are counted per kind and per bin of virtual time") {
  EventHistory h;
  h.add(record(0, "g", "interrupt"));
  h.add(record(99, "g", "interrupt"));
  h.add(record(100, "g", "exception"));
  h.add(record(950, "g", "interrupt"));
  const TimelineBins bins = bin_timeline(h.window(), std::nullopt, 0, 1000, 10);
  REQUIRE(bins.lanes.size() == 2);
  CHECK(bins.lanes[0].name == "exception");  // the story's order, not arrival order
  CHECK(bins.lanes[1].name == "interrupt");
  CHECK(bins.lanes[1].counts[0] == 2);
  CHECK(bins.lanes[1].counts[9] == 1);
  CHECK(bins.lanes[0].counts[1] == 1);
  CHECK(bins.lanes[1].total == 3);
  CHECK(bins.max_count == 2);
}

TEST_CASE("Timeline: events outside the window or of another guest are left out, lanes stay") {
  EventHistory h;
  h.add(record(5, "a", "isolation"));
  h.add(record(500, "a", "isolation"));
  h.add(record(600, "b", "isolation"));
  h.add(record(2000, "a", "interrupt"));
  const EventWindow w = h.window();
  const TimelineBins bins = bin_timeline(w, uint16_t{0}, 100, 1000, 9);
  REQUIRE(bins.lanes.size() == 2);  // every kind seen keeps its lane, even when empty here
  CHECK(bins.lanes[0].name == "interrupt");
  CHECK(bins.lanes[0].total == 0);
  CHECK(bins.lanes[1].name == "isolation");
  CHECK(bins.lanes[1].total == 1);
  CHECK(bins.bin_of(500) == 4u);
  CHECK_FALSE(bins.bin_of(1000));
  CHECK(bins.bin_start(0) == 100);
  CHECK(bins.bin_start(9) == 1000);
}

TEST_CASE("Timeline: the window ends now and starts at zero early in the run") {
  CHECK(window_start(500, 2000) == 0);
  CHECK(window_start(5000, 2000) == 3000);
  const TimelineBins bins = bin_timeline(EventWindow{}, std::nullopt, 7, 7, 4);
  CHECK(bins.t1 > bins.t0);  // an empty window is still a window
}

TEST_CASE("EventHistory: a window taken earlier does not change as events arrive") {
  EventHistory h(EventHistory::kChunk * 2);
  h.add(record(1, "g", "exception"));
  const EventWindow before = h.window();
  for (uint64_t t = 2; t < 5000; ++t) h.add(record(t, "g", t % 2 ? "exception" : "interrupt"));
  CHECK(before.size() == 1);
  CHECK(before.kinds->size() == 1);
  const EventWindow after = h.window();
  CHECK(after.total == 4999);
  CHECK(after.size() <= EventHistory::kChunk * 4);  // the oldest chunks were let go
  uint64_t last = 0;
  after.for_each([&](const EventItem& e) { last = e.time_ns; });
  CHECK(last == 4999);
  CHECK(after.kind_name(1) == "interrupt");
}

TEST_CASE("EventHistory: addresses are taken from the details, strings unquoted") {
  EventHistory h;
  LogRecord r = record(10, "attacker", "isolation");
  r.hex("gpa", 0x4000000).hex("va", 0x4000000).str("access", "read");
  h.add(r);
  h.add(record(11, "attacker", "interrupt"));
  const EventWindow w = h.window();
  std::vector<EventItem> items;
  w.for_each([&](const EventItem& e) { items.push_back(e); });
  REQUIRE(items.size() == 2);
  CHECK(items[0].gpa == 0x4000000);
  CHECK(items[0].va == 0x4000000);
  CHECK(items[0].details == "access=read gpa=0x4000000 va=0x4000000");
  CHECK(items[1].gpa == kNoAddress);
  CHECK(w.guest_name(items[0].guest) == "attacker");
}

TEST_CASE("Timeline: one lane per VM exit reason and per callout kind, after the guest's own events") {
  EventHistory h;
  LogRecord cpuid = record(5, "g", "vm_exit");
  cpuid.num("reason", 10).str("name", "CPUID");
  LogRecord io = record(6, "g", "vm_exit");
  io.num("reason", 30).str("name", "I/O instruction");
  LogRecord ret = record(7, "g", "callout");
  ret.str("kind", "Return").hex("tc", 0xffffffffff000040ull);
  LogRecord unnamed = record(8, "g", "vm_exit");  // a record without a reason keeps its kind
  for (const LogRecord& r : {cpuid, io, ret, unnamed, record(9, "g", "interrupt"), record(10, "g", "triple_fault")}) {
    h.add(r);
  }
  CHECK(lane_of(cpuid) == "exit CPUID");
  CHECK(lane_of(ret) == "callout Return");
  CHECK(lane_of(unnamed) == "vm_exit");
  const TimelineBins b = bin_timeline(h.window(), std::nullopt, 0, 20, 4);
  std::vector<std::string> lanes;
  for (const TimelineLane& l : b.lanes) lanes.push_back(l.name);
  CHECK(lanes == std::vector<std::string>{"interrupt", "exit CPUID", "exit I/O instruction", "callout Return",
                                          "triple_fault", "vm_exit"});
}
