#pragma once
// A bt differential case as a flat image (bt_diff_layout.hpp has the layout): the prologue,
// the body, the epilogue, the local functions and the exception handler assembled at
// 0x100000, then the IDT, the IDTR image and the scratch data; and the disassembly of a part of
// it, for the failure report.
#include <cstdint>
#include <string>
#include <vector>

#include "bt_diff_program.hpp"
#include "fuzz_support.hpp"

namespace hvsim::fuzz::bt_diff {

struct Image {
  Bytes bytes;
  std::vector<Assembler::Mark> marks;
  uint64_t body_begin = 0, body_end = 0, code_end = 0;
  std::string error;
};

// The image of `c` with the body snippets that `keep` marks (all but when reducing); when it
// cannot be built, `error` says why.
Image build_image(const Case& c, const std::vector<bool>& keep);

// The instructions in [from, to) of `img` in Intel syntax, one a line, below the marks
// (snippet, epilogue, functions, handler) where they begin.
std::string disassemble(const Image& img, uint64_t from, uint64_t to);

}  // namespace hvsim::fuzz::bt_diff
