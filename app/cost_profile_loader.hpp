#pragma once
// Cost profiles (scenarios/profiles/*.toml, docs/cost-model.md): read, checked, every
// parameter present with a value and a source; errors name the file and line.
#include <string>
#include <vector>

#include "core/cost/cost_parameters.hpp"
#include "core/util/result.hpp"

namespace hvsim {

Result<CostProfile> load_cost_profile(const std::string& path);
// A profile by name (scenarios/profiles/NAME.toml, looked up from the working directory and
// from the source tree hvsim was built from) or by path.
Result<CostProfile> find_cost_profile(const std::string& name_or_path);
std::vector<std::string> cost_profile_names();

}  // namespace hvsim
