#pragma once
// The visualizer's views, by the names `--view` and the tab bar use.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hvsim::gui {

enum class ViewId : uint8_t { Timeline, Code, Walk, Memory, Log, Registers, Overhead };

inline constexpr std::array<ViewId, 7> kAllViews = {ViewId::Timeline, ViewId::Code,      ViewId::Walk,
                                                    ViewId::Memory,   ViewId::Log,       ViewId::Registers,
                                                    ViewId::Overhead};

const char* view_name(ViewId v);   // "timeline", "code", ...
const char* view_title(ViewId v);  // "Trap timeline", ... (tab labels)
std::optional<ViewId> parse_view(std::string_view name);

}  // namespace hvsim::gui
