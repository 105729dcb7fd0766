#include "gui/offscreen_target.hpp"

#define GLFW_INCLUDE_GLEXT
#include <GLFW/glfw3.h>

#include "gui/screenshot.hpp"

namespace hvsim::gui {
namespace {

// Framebuffer objects are OpenGL 3.0: their entry points come from the context.
struct FboFunctions {
  PFNGLGENFRAMEBUFFERSPROC gen_framebuffers = nullptr;
  PFNGLDELETEFRAMEBUFFERSPROC delete_framebuffers = nullptr;
  PFNGLBINDFRAMEBUFFERPROC bind_framebuffer = nullptr;
  PFNGLGENRENDERBUFFERSPROC gen_renderbuffers = nullptr;
  PFNGLDELETERENDERBUFFERSPROC delete_renderbuffers = nullptr;
  PFNGLBINDRENDERBUFFERPROC bind_renderbuffer = nullptr;
  PFNGLRENDERBUFFERSTORAGEPROC renderbuffer_storage = nullptr;
  PFNGLFRAMEBUFFERRENDERBUFFERPROC framebuffer_renderbuffer = nullptr;
  PFNGLCHECKFRAMEBUFFERSTATUSPROC check_framebuffer_status = nullptr;
  bool complete() const {
    return gen_framebuffers && delete_framebuffers && bind_framebuffer && gen_renderbuffers && delete_renderbuffers &&
           bind_renderbuffer && renderbuffer_storage && framebuffer_renderbuffer && check_framebuffer_status;
  }
};

const FboFunctions& fbo() {
  static const FboFunctions f = [] {
    FboFunctions r;
    r.gen_framebuffers = reinterpret_cast<PFNGLGENFRAMEBUFFERSPROC>(glfwGetProcAddress("glGenFramebuffers"));
    r.delete_framebuffers = reinterpret_cast<PFNGLDELETEFRAMEBUFFERSPROC>(glfwGetProcAddress("glDeleteFramebuffers"));
    r.bind_framebuffer = reinterpret_cast<PFNGLBINDFRAMEBUFFERPROC>(glfwGetProcAddress("glBindFramebuffer"));
    r.gen_renderbuffers = reinterpret_cast<PFNGLGENRENDERBUFFERSPROC>(glfwGetProcAddress("glGenRenderbuffers"));
    r.delete_renderbuffers =
        reinterpret_cast<PFNGLDELETERENDERBUFFERSPROC>(glfwGetProcAddress("glDeleteRenderbuffers"));
    r.bind_renderbuffer = reinterpret_cast<PFNGLBINDRENDERBUFFERPROC>(glfwGetProcAddress("glBindRenderbuffer"));
    r.renderbuffer_storage =
        reinterpret_cast<PFNGLRENDERBUFFERSTORAGEPROC>(glfwGetProcAddress("glRenderbufferStorage"));
    r.framebuffer_renderbuffer =
        reinterpret_cast<PFNGLFRAMEBUFFERRENDERBUFFERPROC>(glfwGetProcAddress("glFramebufferRenderbuffer"));
    r.check_framebuffer_status =
        reinterpret_cast<PFNGLCHECKFRAMEBUFFERSTATUSPROC>(glfwGetProcAddress("glCheckFramebufferStatus"));
    return r;
  }();
  return f;
}

}  // namespace

Result<std::unique_ptr<OffscreenTarget>> OffscreenTarget::create(int width, int height) {
  const FboFunctions& f = fbo();
  if (!f.complete()) return make_error("the OpenGL context has no framebuffer objects");
  std::unique_ptr<OffscreenTarget> t(new OffscreenTarget(width, height));
  f.gen_renderbuffers(1, &t->color_);
  f.bind_renderbuffer(GL_RENDERBUFFER, t->color_);
  f.renderbuffer_storage(GL_RENDERBUFFER, GL_RGBA8, width, height);
  f.gen_framebuffers(1, &t->framebuffer_);
  f.bind_framebuffer(GL_FRAMEBUFFER, t->framebuffer_);
  f.framebuffer_renderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, t->color_);
  if (f.check_framebuffer_status(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
    return make_error("cannot render off screen at " + std::to_string(width) + "x" + std::to_string(height));
  }
  return t;
}

OffscreenTarget::~OffscreenTarget() {
  const FboFunctions& f = fbo();
  if (!f.complete()) return;
  f.bind_framebuffer(GL_FRAMEBUFFER, 0);
  if (framebuffer_) f.delete_framebuffers(1, &framebuffer_);
  if (color_) f.delete_renderbuffers(1, &color_);
}

void OffscreenTarget::bind() {
  fbo().bind_framebuffer(GL_FRAMEBUFFER, framebuffer_);
  glViewport(0, 0, width_, height_);
}

void OffscreenTarget::clear(float r, float g, float b) {
  glClearColor(r, g, b, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
}

std::vector<uint8_t> OffscreenTarget::read_rgba() {
  std::vector<uint8_t> pixels(static_cast<size_t>(width_) * static_cast<size_t>(height_) * 4);
  fbo().bind_framebuffer(GL_FRAMEBUFFER, framebuffer_);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  flip_rows(pixels, width_, height_);  // OpenGL's first row is the bottom one
  return pixels;
}

}  // namespace hvsim::gui
