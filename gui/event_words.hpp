#pragma once
// An event-log record in words, for the timeline's selected event and the log's tooltips.
#include <string>

namespace hvsim::gui {

// "#PF (page fault), error code 0x2: delivered to the guest's handler through its IDT".
std::string event_in_words(const std::string& kind, const std::string& details);
// "#PF (page fault)" for an exception vector, "vector 32" otherwise.
std::string vector_name(unsigned vector);

}  // namespace hvsim::gui
