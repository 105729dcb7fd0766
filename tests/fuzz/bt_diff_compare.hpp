#pragma once
// Comparing the states a bt differential case leaves under native and under bt, and the
// pieces of the report on a mismatch.
#include <cstddef>
#include <string>
#include <vector>

#include "bt_diff_run.hpp"

namespace hvsim::fuzz::bt_diff {

// The exceptions the guest's handler recorded (the last eight): vector, error code, RIP.
std::string exception_records(const State& st);

// The differences between two runs, one line each; empty when they agree.
std::vector<std::string> compare(const State& n, const State& b);

// What a mismatch is about, for the reducer: the kind of the first difference.
std::string signature(const std::vector<std::string>& diffs);

// The lines indented for a report, at most `max` of them.
std::string join(const std::vector<std::string>& lines, size_t max = 40);

}  // namespace hvsim::fuzz::bt_diff
