#pragma once
// One bt differential case end to end: its image built, run under native and under bt, the
// two states compared; and the reducer that shrinks a case that fails.
#include <string>
#include <vector>

#include "bt_diff_image.hpp"
#include "bt_diff_program.hpp"
#include "bt_diff_run.hpp"

namespace hvsim::fuzz::bt_diff {

struct Outcome {
  State native, bt;
  std::vector<std::string> diffs;
  std::string error;
};

// Runs the image of `c` with the body snippets `keep` marks; the image itself goes to `built`
// when given.
Outcome run_case(const Case& c, const std::vector<bool>& keep, Image* built = nullptr);

// Drops snippets while the mismatch keeps its signature: one at a time, repeated until no
// single removal keeps it.
std::vector<bool> reduce(const Case& c, const std::string& sig);

}  // namespace hvsim::fuzz::bt_diff
