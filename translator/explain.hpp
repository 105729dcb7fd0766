#pragma once
// Guest instructions beside their translation, each rewrite named in words: the data behind
// `hvsim translate` and the visualizer's code view.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "translator/fragment.hpp"
#include "translator/unit.hpp"

namespace hvsim::bt {

struct TcLine {
  uint64_t tc_address = 0;
  std::vector<uint8_t> bytes;
  std::string text;  // Intel syntax, with a comment for callouts and stubs
};

struct ExplainLine {
  uint64_t guest_rip = 0;
  std::vector<uint8_t> guest_bytes;
  std::string guest_text;  // Intel syntax, or why it could not be decoded
  Rewrite rewrite = Rewrite::Ident;
  std::string why;  // the rewrite in words
  std::vector<TcLine> translation;
};

// tc_bytes: the fragment's bytes as they are now (a chained stub shows as its jump).
std::vector<ExplainLine> explain(const TranslationUnit& unit, const Fragment& fragment,
                                 std::span<const uint8_t> tc_bytes);

// A plain-text listing of explain()'s lines.
std::string format_explanation(const std::vector<ExplainLine>& lines);

}  // namespace hvsim::bt
