#pragma once
// How guest memory reaches machine memory: the guest's own tables straight onto RAM (a
// machine without a hypervisor), EPT (hardware two-dimensional walk) or shadow paging (the
// VMM's tables built from the guest's).
#include <cstdint>
#include <optional>
#include <string_view>

namespace hvsim {

enum class PagingMode : uint8_t { Native, Ept, Shadow };

constexpr const char* paging_mode_name(PagingMode m) {
  return m == PagingMode::Ept ? "ept" : m == PagingMode::Shadow ? "shadow" : "native";
}

inline std::optional<PagingMode> parse_paging_mode(std::string_view s) {
  if (s == "native") return PagingMode::Native;
  if (s == "ept") return PagingMode::Ept;
  if (s == "shadow") return PagingMode::Shadow;
  return std::nullopt;
}

}  // namespace hvsim
