#pragma once
// A framebuffer object of a fixed size to render into: headless screenshots have exactly the
// size asked for, whatever the (virtual) screen, and their pixels are defined (a window's
// pixels need not be when it is hidden or off screen).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim::gui {

class OffscreenTarget {
 public:
  // Needs a current OpenGL 3.3 context.
  static Result<std::unique_ptr<OffscreenTarget>> create(int width, int height);
  ~OffscreenTarget();
  OffscreenTarget(const OffscreenTarget&) = delete;
  OffscreenTarget& operator=(const OffscreenTarget&) = delete;

  void bind();  // render into it (viewport set, cleared to `r,g,b`)
  void clear(float r, float g, float b);
  // RGBA rows, top row first.
  std::vector<uint8_t> read_rgba();
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  OffscreenTarget(int w, int h) : width_(w), height_(h) {}
  int width_, height_;
  unsigned framebuffer_ = 0, color_ = 0;
};

}  // namespace hvsim::gui
