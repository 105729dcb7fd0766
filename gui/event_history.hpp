#pragma once
// The recent event-log records, kept by the simulation thread and shared with the views
// without copying: full chunks are immutable and shared by every snapshot that includes them;
// only the chunk being filled is copied when a snapshot is taken.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/log/event_log.hpp"

namespace hvsim::gui {

constexpr uint64_t kNoAddress = ~0ull;

struct EventItem {
  uint64_t sequence = 0;  // 0, 1, 2, ... since the last reset, over all guests
  uint64_t time_ns = 0;   // the guest's virtual time
  uint64_t rip = 0;
  uint16_t guest = 0;     // index into EventWindow::guests
  uint16_t kind = 0;      // index into EventWindow::kinds: the record's lane (lane_of)
  uint64_t gpa = kNoAddress;  // from the details, when the record has one (isolation)
  uint64_t va = kNoAddress;
  std::string details;    // "key=value key=value", JSON quotes removed
};

// An immutable view of the history at one moment.
struct EventWindow {
  std::vector<std::shared_ptr<const std::vector<EventItem>>> chunks;
  std::shared_ptr<const std::vector<std::string>> kinds = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<const std::vector<std::string>> guests = std::make_shared<std::vector<std::string>>();
  uint64_t total = 0;  // records seen since the reset, including those no longer kept

  size_t size() const;
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& c : chunks) {
      for (const EventItem& e : *c) f(e);
    }
  }
  const std::string& kind_name(uint16_t k) const;
  const std::string& guest_name(uint16_t g) const;
};

class EventHistory {
 public:
  static constexpr size_t kChunk = 512;
  explicit EventHistory(size_t max_events = 1u << 16) : max_chunks_(max_events / kChunk + 1) {}
  void add(const LogRecord& record);
  EventWindow window() const;
  uint64_t total() const { return total_; }

 private:
  uint16_t intern(std::shared_ptr<const std::vector<std::string>>& names, const std::string& name);
  size_t max_chunks_;
  std::vector<std::shared_ptr<const std::vector<EventItem>>> sealed_;
  std::vector<EventItem> open_;
  std::shared_ptr<const std::vector<std::string>> kinds_ = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<const std::vector<std::string>> guests_ = std::make_shared<std::vector<std::string>>();
  uint64_t total_ = 0;
};

// The timeline lane (and the kind the views show) of a record: its kind, except that VM exits
// get one lane per exit reason ("exit CR access") and bt callouts one per callout kind
// ("callout Return").
std::string lane_of(const LogRecord& record);
// "key=value ..." from a record's details, strings unquoted.
std::string details_text(const LogRecord& record);

}  // namespace hvsim::gui
