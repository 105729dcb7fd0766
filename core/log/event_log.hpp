#pragma once
// The event log: typed, append-only records (virtual time, guest, vCPU, RIP, kind, details),
// written as JSON Lines. Each record carries the SHA-256 of the previous line, and closing the
// log appends a "log_end" record with the record count and the hash of the last line, so an
// edited, shortened or truncated log is detectable (verify_log_chain). The chain has no
// secret: it shows accidental or naive edits, not a forger who recomputes every hash.
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace hvsim {

struct LogRecord {
  uint64_t time_ns = 0;
  std::string guest;
  unsigned vcpu = 0;
  uint64_t rip = 0;
  std::string kind;
  // Details as ordered key -> already-encoded JSON value, so output is byte-stable.
  std::map<std::string, std::string> details;

  LogRecord& hex(const std::string& key, uint64_t v);
  LogRecord& num(const std::string& key, uint64_t v);
  LogRecord& str(const std::string& key, const std::string& v);
};

class EventLog {
 public:
  EventLog() = default;  // counts only
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  static Result<std::unique_ptr<EventLog>> open(const std::string& path);
  // Writes the log_end record and closes the file (also done by the destructor).
  void close();
  void append(const LogRecord& r);
  // Whether records are wanted (written, or watched by an observer); when not, callers skip
  // building them and only count.
  bool recording() const { return writing_ || observer_ != nullptr; }
  // Sees every appended record, whether or not a file is written (the visualizer's timeline).
  // Called on the thread that appends; the file's bytes do not change.
  void set_observer(std::function<void(const LogRecord&)> observer) { observer_ = std::move(observer); }
  void count(const char* kind) {
    ++count_;
    if (auto it = by_kind_.find(std::string_view(kind)); it != by_kind_.end()) {
      ++it->second;
    } else {
      by_kind_.emplace(kind, 1);
    }
  }
  uint64_t records() const { return count_; }
  const std::map<std::string, uint64_t, std::less<>>& counts_by_kind() const { return by_kind_; }

 private:
  void write_line(const LogRecord& r);
  std::ofstream out_;
  bool writing_ = false;
  std::string prev_hash_ = std::string(64, '0');
  uint64_t last_time_ = 0;
  uint64_t count_ = 0;
  std::map<std::string, uint64_t, std::less<>> by_kind_;
  std::function<void(const LogRecord&)> observer_;
};

std::string json_escape(const std::string& s);
std::string sha256_hex(const std::string& data);
// Checks every record's "prev" field against the hash of the line before it.
Result<uint64_t> verify_log_chain(const std::string& path);

}  // namespace hvsim
