#include "gui/gl_window.hpp"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <string>

namespace hvsim::gui {
namespace {

std::string glfw_error() {
  const char* text = nullptr;
  glfwGetError(&text);
  return text ? text : "unknown GLFW error";
}

}  // namespace

Result<std::unique_ptr<GlWindow>> GlWindow::open(const std::string& title, int width, int height, bool visible) {
  if (!glfwInit()) {
    return make_error("no display available (" + glfw_error() + "); set DISPLAY, or run under `xvfb-run -a`");
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE);
  GLFWwindow* w = glfwCreateWindow(width, height, title.c_str(), nullptr, nullptr);
  if (!w) {
    std::string why = glfw_error();
    glfwTerminate();
    return make_error("cannot open an OpenGL 3.3 window (" + why + ")");
  }
  std::unique_ptr<GlWindow> win(new GlWindow(w));
  glfwMakeContextCurrent(w);
  glfwSwapInterval(visible ? 1 : 0);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini left in the trainer's folder
  ImGui_ImplGlfw_InitForOpenGL(w, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  win->imgui_ready_ = true;
  return win;
}

GlWindow::~GlWindow() {
  if (imgui_ready_) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  glfwDestroyWindow(window_);
  glfwTerminate();
}

bool GlWindow::should_close() const { return glfwWindowShouldClose(window_); }

void GlWindow::begin_frame() {
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
}

void GlWindow::render() { ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData()); }

void GlWindow::present() { glfwSwapBuffers(window_); }

void GlWindow::framebuffer_size(int& width, int& height) const { glfwGetFramebufferSize(window_, &width, &height); }

void GlWindow::rebuild_fonts() {
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();
}

}  // namespace hvsim::gui
