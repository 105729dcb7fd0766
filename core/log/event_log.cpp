#include "core/log/event_log.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace hvsim {

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

LogRecord& LogRecord::hex(const std::string& key, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"0x%llx\"", static_cast<unsigned long long>(v));
  details[key] = buf;
  return *this;
}
LogRecord& LogRecord::num(const std::string& key, uint64_t v) {
  details[key] = std::to_string(v);
  return *this;
}
LogRecord& LogRecord::str(const std::string& key, const std::string& v) {
  details[key] = json_escape(v);
  return *this;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 15];
  }
  return hex;
}

Result<std::unique_ptr<EventLog>> EventLog::open(const std::string& path) {
  auto log = std::make_unique<EventLog>();
  log->out_.open(path, std::ios::binary | std::ios::trunc);
  if (!log->out_) return make_error("cannot write event log '" + path + "'");
  log->writing_ = true;
  return log;
}

namespace {
std::string format_line(const LogRecord& r, const std::string& prev_hash) {
  char rip[24];
  std::snprintf(rip, sizeof rip, "0x%llx", static_cast<unsigned long long>(r.rip));
  std::string line = "{\"t\":" + std::to_string(r.time_ns) + ",\"guest\":" + json_escape(r.guest) +
                     ",\"vcpu\":" + std::to_string(r.vcpu) + ",\"rip\":\"" + rip + "\",\"kind\":" +
                     json_escape(r.kind) + ",\"details\":{";
  bool first = true;
  for (const auto& [k, v] : r.details) {
    if (!first) line += ',';
    first = false;
    line += json_escape(k) + ":" + v;
  }
  line += "},\"prev\":\"" + prev_hash + "\"}";
  return line;
}

LogRecord end_record(uint64_t last_time, uint64_t records) {
  LogRecord end;
  end.time_ns = last_time;
  end.kind = "log_end";
  end.num("records", records);
  return end;
}
}  // namespace

EventLog::~EventLog() { close(); }

void EventLog::close() {
  if (!writing_) return;
  write_line(end_record(last_time_, count_));
  writing_ = false;
  out_.close();
}

void EventLog::append(const LogRecord& r) {
  count(r.kind.c_str());
  if (observer_) observer_(r);
  if (!writing_) return;
  last_time_ = r.time_ns;
  write_line(r);
}


void EventLog::write_line(const LogRecord& r) {
  std::string line = format_line(r, prev_hash_);
  prev_hash_ = sha256_hex(line);
  out_ << line << '\n';
}

Result<uint64_t> verify_log_chain(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read event log '" + path + "'");
  std::string line, prev = std::string(64, '0'), prev_of_last = prev, last;
  uint64_t n = 0, time_before_last = 0, time_of_last = 0;
  while (std::getline(in, line)) {
    ++n;
    auto pos = line.rfind("\"prev\":\"");
    if (pos == std::string::npos || line.size() < pos + 8 + 64 + 2 || line.compare(pos + 8, 64, prev) != 0) {
      return make_error("event log '" + path + "': record " + std::to_string(n) +
                        " does not follow the record before it (edited or truncated)");
    }
    prev_of_last = prev;
    prev = sha256_hex(line);
    last = line;
    time_before_last = time_of_last;
    time_of_last = std::strtoull(line.c_str() + std::min<size_t>(5, line.size()), nullptr, 10);
  }
  // The closing record is fully determined by what precedes it: rebuild it and compare.
  if (n == 0 || last != format_line(end_record(time_before_last, n - 1), prev_of_last)) {
    return make_error("event log '" + path + "': the last record is not a log_end record counting " +
                      std::to_string(n ? n - 1 : 0) + " records (edited or truncated, or the run was killed)");
  }
  return n - 1;
}

}  // namespace hvsim
