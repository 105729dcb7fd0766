#include "gui/theme.hpp"

#include <array>
#include <filesystem>
#include <functional>

#include "gui/stable_hash.hpp"
#include "gui/timeline.hpp"

namespace hvsim::gui {
namespace {

constexpr float kBaseTextPixels = 18.0f;

const char* first_existing(std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return p;
  }
  return nullptr;
}

// Well separated hues that stay readable on white and on near-black.
constexpr std::array<ImU32, 10> kPalette = {
    IM_COL32(230, 85, 60, 255),  IM_COL32(60, 140, 230, 255), IM_COL32(60, 180, 90, 255),
    IM_COL32(200, 80, 200, 255), IM_COL32(240, 170, 40, 255), IM_COL32(40, 180, 190, 255),
    IM_COL32(150, 110, 70, 255), IM_COL32(120, 120, 220, 255), IM_COL32(200, 60, 110, 255),
    IM_COL32(130, 170, 40, 255)};

}  // namespace

Fonts load_fonts(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  Fonts f;
  const float px = kBaseTextPixels * scale;
  const char* sans = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                     "/usr/share/fonts/TTF/DejaVuSans.ttf"});
  const char* mono = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                                     "/usr/share/fonts/TTF/DejaVuSansMono.ttf"});
  if (sans && mono) {
    f.text = io.Fonts->AddFontFromFileTTF(sans, px);
    f.mono = io.Fonts->AddFontFromFileTTF(mono, px);
    f.title = io.Fonts->AddFontFromFileTTF(sans, px * 1.3f);
    f.scalable = f.text && f.mono && f.title;
  }
  if (!f.scalable) {
    // The built-in font is a 13-pixel bitmap: scaled, it is blurry but still readable.
    ImFontConfig cfg;
    cfg.SizePixels = 13.0f * scale;
    f.text = f.mono = f.title = io.Fonts->AddFontDefault(&cfg);
  }
  io.FontDefault = f.text;
  return f;
}

void apply_theme(Theme theme, float scale) {
  ImGuiStyle style;
  if (theme == Theme::Dark) {
    ImGui::StyleColorsDark(&style);
  } else {
    ImGui::StyleColorsLight(&style);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(0.98f, 0.98f, 0.97f, 1.0f);
  }
  style.WindowRounding = 4.0f;
  style.FrameRounding = 3.0f;
  style.ScaleAllSizes(scale);
  ImGui::GetStyle() = style;
}

ImU32 kind_color(const std::string& kind) {
  // Lanes of one family ("exit ...", "callout ...") share a rank but not a color.
  const bool family = kind.find(' ') != std::string::npos;
  const int rank = lane_rank(kind);
  if (!family && rank < static_cast<int>(kPalette.size()) - 2) return kPalette[static_cast<size_t>(rank)];
  return kPalette[stable_hash(kind) % kPalette.size()];  // the same color in every run and build
}

ImU32 owner_color(const std::string& owner, Theme theme) {
  if (owner.empty()) return theme == Theme::Dark ? IM_COL32(55, 58, 64, 255) : IM_COL32(225, 225, 222, 255);
  // The VMM's frames are grey-blue whoever they serve; guests get palette colors by name.
  if (owner.rfind("vmm", 0) == 0) return IM_COL32(110, 120, 150, 255);
  size_t h = 0;
  for (char c : owner) h = h * 31 + static_cast<unsigned char>(c);
  return kPalette[1 + h % (kPalette.size() - 1)];
}

ImVec4 accent_color(Theme theme) {
  return theme == Theme::Dark ? ImVec4(1.0f, 0.85f, 0.3f, 1.0f) : ImVec4(0.75f, 0.35f, 0.0f, 1.0f);
}
ImVec4 warning_color(Theme theme) {
  return theme == Theme::Dark ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(0.8f, 0.1f, 0.1f, 1.0f);
}
ImVec4 muted_color(Theme theme) {
  return theme == Theme::Dark ? ImVec4(0.6f, 0.6f, 0.62f, 1.0f) : ImVec4(0.45f, 0.45f, 0.45f, 1.0f);
}

}  // namespace hvsim::gui
