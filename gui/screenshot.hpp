#pragma once
// Pixels to PNG for headless screenshots, and the checks tests make on them.
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim::gui {

// Reverses the order of rows of an RGBA image in place.
void flip_rows(std::vector<uint8_t>& rgba, int width, int height);
Result<void> write_png(const std::string& path, const std::vector<uint8_t>& rgba, int width, int height);

struct ImageStats {
  uint64_t distinct_colors = 0;   // counted up to a cap
  double dominant_share = 0;      // share of pixels with the most common color
};
ImageStats image_stats(const std::vector<uint8_t>& rgba, int width, int height);

}  // namespace hvsim::gui
