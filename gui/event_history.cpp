#include "gui/event_history.hpp"

#include <cstdlib>

namespace hvsim::gui {
namespace {

std::string unquoted(const std::string& json) {
  if (json.size() >= 2 && json.front() == '"' && json.back() == '"') return json.substr(1, json.size() - 2);
  return json;
}

uint64_t address_detail(const LogRecord& r, const char* key) {
  auto it = r.details.find(key);
  if (it == r.details.end()) return kNoAddress;
  const std::string v = unquoted(it->second);
  char* end = nullptr;
  uint64_t value = std::strtoull(v.c_str(), &end, 0);
  return end && *end == '\0' && !v.empty() ? value : kNoAddress;
}

}  // namespace

std::string lane_of(const LogRecord& record) {
  auto detail = [&](const char* key) {
    auto it = record.details.find(key);
    return it == record.details.end() ? std::string() : unquoted(it->second);
  };
  if (record.kind == "vm_exit") {
    if (std::string name = detail("name"); !name.empty()) return "exit " + name;
  } else if (record.kind == "callout") {
    if (std::string kind = detail("kind"); !kind.empty()) return "callout " + kind;
  }
  return record.kind;
}

std::string details_text(const LogRecord& record) {
  std::string out;
  for (const auto& [key, value] : record.details) {
    if (!out.empty()) out += ' ';
    out += key + "=" + unquoted(value);
  }
  return out;
}

size_t EventWindow::size() const {
  size_t n = 0;
  for (const auto& c : chunks) n += c->size();
  return n;
}

const std::string& EventWindow::kind_name(uint16_t k) const {
  static const std::string unknown = "?";
  return k < kinds->size() ? (*kinds)[k] : unknown;
}

const std::string& EventWindow::guest_name(uint16_t g) const {
  static const std::string unknown = "?";
  return g < guests->size() ? (*guests)[g] : unknown;
}

uint16_t EventHistory::intern(std::shared_ptr<const std::vector<std::string>>& names, const std::string& name) {
  for (size_t i = 0; i < names->size(); ++i) {
    if ((*names)[i] == name) return static_cast<uint16_t>(i);
  }
  // Copy on write: windows already handed out keep the list they were given.
  auto grown = std::make_shared<std::vector<std::string>>(*names);
  grown->push_back(name);
  names = std::move(grown);
  return static_cast<uint16_t>(names->size() - 1);
}

void EventHistory::add(const LogRecord& record) {
  EventItem e;
  e.sequence = total_++;
  e.time_ns = record.time_ns;
  e.rip = record.rip;
  e.guest = intern(guests_, record.guest);
  e.kind = intern(kinds_, lane_of(record));
  e.gpa = address_detail(record, "gpa");
  e.va = address_detail(record, "va");
  e.details = details_text(record);
  open_.push_back(std::move(e));
  if (open_.size() < kChunk) return;
  sealed_.push_back(std::make_shared<const std::vector<EventItem>>(std::move(open_)));
  open_.clear();
  open_.reserve(kChunk);
  if (sealed_.size() > max_chunks_) sealed_.erase(sealed_.begin());
}

EventWindow EventHistory::window() const {
  EventWindow w;
  w.chunks = sealed_;
  if (!open_.empty()) w.chunks.push_back(std::make_shared<const std::vector<EventItem>>(open_));
  w.kinds = kinds_;
  w.guests = guests_;
  w.total = total_;
  return w;
}

}  // namespace hvsim::gui
