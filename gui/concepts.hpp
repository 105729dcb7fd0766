#pragma once
// One- or two-sentence explanations of the concepts the views show, for tooltips: what a
// trainer would say when pointing at the screen.
#include <string_view>
#include <vector>

namespace hvsim::gui {

struct Concept {
  std::string_view key;    // "ept_violation"
  std::string_view title;  // "EPT violation"
  std::string_view text;
};

const std::vector<Concept>& all_concepts();
// The concept for `key`, or nullptr.
const Concept* find_concept(std::string_view key);
// The concept that explains an event kind of the log ("exception", "isolation", ...), or nullptr.
const Concept* concept_for_event(std::string_view kind);

}  // namespace hvsim::gui
