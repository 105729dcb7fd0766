#pragma once
// A string hash that is the same in every run, build and standard library (std::hash is not),
// so that a label keeps its color: 32-bit FNV-1a.
#include <cstdint>
#include <string_view>

namespace hvsim::gui {

constexpr uint32_t stable_hash(std::string_view text) {
  uint32_t h = 2166136261u;
  for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

static_assert(stable_hash("a") == 0xe40c292cu, "FNV-1a's published value for \"a\"");

}  // namespace hvsim::gui
