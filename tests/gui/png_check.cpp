// Checks a screenshot for the gui ctest entries: `gui_png_check FILE WIDTH HEIGHT` exits 0
// when the PNG has that size and is not blank (many colors, none covering nearly all of it).
#include <stb_image.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gui/screenshot.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: gui_png_check FILE WIDTH HEIGHT\n");
    return 2;
  }
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load(argv[1], &w, &h, &channels, 4);
  if (!data) {
    std::fprintf(stderr, "gui_png_check: cannot read %s as a PNG\n", argv[1]);
    return 1;
  }
  std::vector<uint8_t> rgba(data, data + static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  stbi_image_free(data);
  const int want_w = std::atoi(argv[2]), want_h = std::atoi(argv[3]);
  if (w != want_w || h != want_h) {
    std::fprintf(stderr, "gui_png_check: %s is %dx%d, expected %dx%d\n", argv[1], w, h, want_w, want_h);
    return 1;
  }
  const hvsim::gui::ImageStats s = hvsim::gui::image_stats(rgba, w, h);
  std::printf("gui_png_check: %dx%d, %llu colors, the most common covers %.1f%%\n", w, h,
              static_cast<unsigned long long>(s.distinct_colors), s.dominant_share * 100);
  // Text is antialiased: a drawn view has dozens of colors; a blank or single-color frame has 1-2.
  if (s.distinct_colors < 16 || s.dominant_share > 0.97) {
    std::fprintf(stderr, "gui_png_check: %s looks blank\n", argv[1]);
    return 1;
  }
  return 0;
}
