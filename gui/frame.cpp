#include "gui/frame.hpp"

#include <imgui.h>

#include "gui/views/views.hpp"

namespace hvsim::gui {

void draw_frame(ViewContext& ctx, float width, float height) {
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(width, height));
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("hvsim", nullptr, flags);
  draw_controls(ctx);
  ImGui::Separator();
  if (ImGui::BeginTabBar("views")) {
    for (ViewId v : kAllViews) {
      const bool force = ctx.ui.select_view_once && v == ctx.ui.view;
      if (ImGui::BeginTabItem(view_title(v), nullptr, force ? ImGuiTabItemFlags_SetSelected : 0)) {
        if (!ctx.ui.select_view_once) ctx.ui.view = v;
        draw_view(v, ctx);
        ImGui::EndTabItem();
      }
    }
    ctx.ui.select_view_once = false;
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace hvsim::gui
