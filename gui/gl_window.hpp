#pragma once
// The window, its OpenGL 3.3 context and the ImGui context with the GLFW and OpenGL 3
// backends, created and torn down together.
#include <memory>
#include <string>

#include "core/util/result.hpp"

struct GLFWwindow;

namespace hvsim::gui {

class GlWindow {
 public:
  // `visible` false: a hidden window (headless screenshots render off screen).
  static Result<std::unique_ptr<GlWindow>> open(const std::string& title, int width, int height, bool visible);
  ~GlWindow();
  GlWindow(const GlWindow&) = delete;
  GlWindow& operator=(const GlWindow&) = delete;

  bool should_close() const;
  void begin_frame();   // polls events, starts the ImGui frame
  void render();        // draws the ImGui frame into the bound framebuffer (the caller sets it up)
  void present();       // swaps buffers (visible windows)
  void framebuffer_size(int& width, int& height) const;
  // Re-uploads the font atlas after fonts change.
  void rebuild_fonts();

 private:
  explicit GlWindow(GLFWwindow* w) : window_(w) {}
  GLFWwindow* window_;
  bool imgui_ready_ = false;
};

}  // namespace hvsim::gui
