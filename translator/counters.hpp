#pragma once
// What the translator did, for the cost model (Adams & Agesen price translation at about
// 2300 cycles per guest instruction, ../shared/REFERENCES.md §1) and the visualizer.
#include <array>
#include <cstdint>

#include "translator/fragment.hpp"
#include "translator/unit.hpp"

namespace hvsim::bt {

#define HVSIM_TRANSLATOR_COUNTERS(X)                                              \
  X(guest_instructions, "guest instructions translated")                          \
  X(fragments, "fragments emitted")                                                \
  X(fragment_bytes, "bytes of translated code emitted")                           \
  X(ident, "instructions copied IDENT")                                            \
  X(rip_relative, "RIP-relative operands re-encoded")                              \
  X(in_cache, "sensitive instructions emulated inside the translation cache")     \
  X(direct_branches, "direct branches rewritten to exit stubs")                    \
  X(lookups, "indirect branches and returns rewritten to an in-cache lookup")      \
  X(exit_stubs, "exit stubs emitted")                                               \
  X(callouts, "callouts emitted, all kinds (exit stubs included)")

struct TranslatorCounters {
#define HVSIM_TRANSLATOR_COUNTER_FIELD(name, what) uint64_t name = 0;
  HVSIM_TRANSLATOR_COUNTERS(HVSIM_TRANSLATOR_COUNTER_FIELD)
#undef HVSIM_TRANSLATOR_COUNTER_FIELD
  std::array<uint64_t, kCalloutKindCount> callouts_by_kind{};
  std::array<uint64_t, kSensitiveKindCount> sensitive_by_kind{};  // in-cache and callouts
};

// Adds one emitted fragment to the counters.
void count_fragment(const TranslationUnit& unit, const Fragment& fragment, TranslatorCounters& c);

}  // namespace hvsim::bt
