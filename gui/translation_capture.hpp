#pragma once
// Under the bt engine, the translation-cache fragment that runs the guest instruction at RIP:
// each guest instruction beside the code it became, the rewrite named (translator/explain),
// for the code view. Read on the simulation thread without changing the cache.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/vm/vm.hpp"
#include "translator/explain.hpp"

namespace hvsim::gui {

struct TranslationView {
  enum class State : uint8_t {
    NotBt,          // the engine translates nothing
    UserCode,       // CPL 3: bt runs guest user code directly
    NotTranslated,  // kernel code the cache holds no fragment for (yet)
    Translated,
  };
  State state = State::NotBt;
  uint64_t guest_rip = 0;   // the instruction shown (RIP, or the one picked in the code view)
  bool at_rip = true;       // it is the one at RIP
  uint64_t tc_address = 0;  // the fragment's entry
  uint32_t tc_size = 0;
  uint64_t guest_begin = 0, guest_end = 0;
  // The guest's bytes no longer decode as they did when the fragment was made (the guest wrote
  // to its code since; the engine drops such fragments at its next stop).
  bool stale = false;
  std::vector<bt::ExplainLine> lines;
};

// The fragment holding guest code address `at` (default: RIP).
TranslationView capture_translation(Vm& vm, std::optional<uint64_t> at = std::nullopt);

}  // namespace hvsim::gui
