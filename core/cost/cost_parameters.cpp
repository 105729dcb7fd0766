#include "core/cost/cost_parameters.hpp"

namespace hvsim {
namespace {
struct ParameterInfo {
  const char* name;
  const char* unit;
  const char* meaning;
};
constexpr ParameterInfo kParameters[] = {
#define HVSIM_COST_INFO(name, unit, what) {#name, unit, what},
    HVSIM_COST_PARAMETERS(HVSIM_COST_INFO)
#undef HVSIM_COST_INFO
};
}  // namespace

const char* cost_parameter_name(CostParameter p) { return kParameters[static_cast<size_t>(p)].name; }
const char* cost_parameter_unit(CostParameter p) { return kParameters[static_cast<size_t>(p)].unit; }
const char* cost_parameter_meaning(CostParameter p) { return kParameters[static_cast<size_t>(p)].meaning; }

std::optional<CostParameter> cost_parameter_from_name(std::string_view name) {
  for (size_t i = 0; i < kCostParameterCount; ++i) {
    if (name == kParameters[i].name) return static_cast<CostParameter>(i);
  }
  return std::nullopt;
}

}  // namespace hvsim
