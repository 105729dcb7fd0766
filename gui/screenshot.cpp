#include "gui/screenshot.hpp"

#include <stb_image_write.h>

#include <algorithm>
#include <unordered_map>

namespace hvsim::gui {

void flip_rows(std::vector<uint8_t>& rgba, int width, int height) {
  const size_t row = static_cast<size_t>(width) * 4;
  for (int y = 0; y < height / 2; ++y) {
    auto a = rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y) * row);
    auto b = rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(height - 1 - y) * row);
    std::swap_ranges(a, a + static_cast<std::ptrdiff_t>(row), b);
  }
}

Result<void> write_png(const std::string& path, const std::vector<uint8_t>& rgba, int width, int height) {
  if (rgba.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * 4) {
    return make_error("screenshot: image is not " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (!stbi_write_png(path.c_str(), width, height, 4, rgba.data(), width * 4)) {
    return make_error("cannot write '" + path + "'");
  }
  return {};
}

ImageStats image_stats(const std::vector<uint8_t>& rgba, int width, int height) {
  constexpr size_t kColorCap = 1u << 16;
  std::unordered_map<uint32_t, uint64_t> counts;
  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (size_t i = 0; i < pixels && i * 4 + 3 < rgba.size(); ++i) {
    const uint32_t c = rgba[i * 4] | (rgba[i * 4 + 1] << 8) | (rgba[i * 4 + 2] << 16);
    auto it = counts.find(c);
    if (it != counts.end()) ++it->second;
    else if (counts.size() < kColorCap) counts.emplace(c, 1);
  }
  ImageStats s;
  s.distinct_colors = counts.size();
  uint64_t top = 0;
  for (const auto& [color, n] : counts) top = std::max(top, n);
  s.dominant_share = pixels ? static_cast<double>(top) / static_cast<double>(pixels) : 0;
  return s;
}

}  // namespace hvsim::gui
