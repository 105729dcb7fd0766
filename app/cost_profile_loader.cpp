#include "app/cost_profile_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace hvsim {
namespace {

namespace fs = std::filesystem;

std::string at(const std::string& path, const toml::node& n) {
  return path + ":" + std::to_string(n.source().begin.line);
}

Result<std::string> text(const toml::table& t, const std::string& key, const std::string& path) {
  const toml::node* n = t.get(key);
  if (!n) return make_error(path + ": missing key '" + key + "'");
  auto s = n->value<std::string>();
  if (!s || s->empty()) return make_error(at(path, *n) + ": '" + key + "' must be a non-empty string");
  return *s;
}

std::vector<fs::path> profile_dirs() {
  std::vector<fs::path> dirs{fs::path("scenarios/profiles")};
#ifdef HVSIM_SOURCE_DIR
  dirs.push_back(fs::path(HVSIM_SOURCE_DIR) / "scenarios/profiles");
#endif
  return dirs;
}

}  // namespace

Result<CostProfile> load_cost_profile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(path + ": no such file");
  if (fs::file_size(path, ec) > (1u << 20)) return make_error(path + ": larger than 1 MiB");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return make_error(path + ":" + std::to_string(err.source().begin.line) + ": " + std::string(err.description()));
  }
  CostProfile p;
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (k != "name" && k != "description" && k != "machine" && k != "clock_ghz" && k != "parameters") {
      return make_error(at(path, node) + ": unknown key '" + k + "'");
    }
  }
  auto name = text(root, "name", path);
  auto description = text(root, "description", path);
  auto machine = text(root, "machine", path);
  for (const auto* r : {&name, &description, &machine}) {
    if (!*r) return r->error();
  }
  p.name = *name;
  p.description = *description;
  p.machine = *machine;
  const toml::node* clock = root.get("clock_ghz");
  if (!clock) return make_error(path + ": missing key 'clock_ghz'");
  auto ghz = clock->value<double>();
  if (!ghz || !(*ghz > 0 && *ghz < 100)) return make_error(at(path, *clock) + ": 'clock_ghz' must be a number in (0, 100)");
  p.clock_ghz = *ghz;

  const toml::node* params_node = root.get("parameters");
  const toml::table* params = params_node ? params_node->as_table() : nullptr;
  if (!params) return make_error(path + ": missing table [parameters]");
  std::array<bool, kCostParameterCount> seen{};
  for (const auto& [key, node] : *params) {
    const std::string k(key.str());
    auto which = cost_parameter_from_name(k);
    if (!which) return make_error(at(path, node) + ": unknown parameter '" + k + "' (docs/cost-model.md lists them)");
    const auto i = static_cast<size_t>(*which);
    const toml::table* entry = node.as_table();
    if (!entry) return make_error(at(path, node) + ": parameter '" + k + "' must be { value = N, source = \"...\" }");
    for (const auto& [field, fnode] : *entry) {
      if (field.str() != "value" && field.str() != "source") {
        return make_error(at(path, fnode) + ": parameter '" + k + "' has an unknown field '" + std::string(field.str()) + "'");
      }
    }
    const toml::node* v = entry->get("value");
    auto value = v ? v->value<double>() : std::nullopt;
    if (!value || !std::isfinite(*value) || *value < 0 || *value > 1e9) {
      return make_error(at(path, v ? *v : node) + ": parameter '" + k + "' needs a value between 0 and 1e9");
    }
    const toml::node* s = entry->get("source");
    auto source = s ? s->value<std::string>() : std::nullopt;
    if (!source || source->find_first_not_of(" \t") == std::string::npos) {
      return make_error(at(path, s ? *s : node) + ": parameter '" + k + "' needs a source (a publication, or why it is an estimate)");
    }
    p.value[i] = *value;
    p.source[i] = *source;
    seen[i] = true;
  }
  for (size_t i = 0; i < kCostParameterCount; ++i) {
    if (!seen[i]) {
      return make_error(path + ": parameter '" + std::string(cost_parameter_name(static_cast<CostParameter>(i))) +
                        "' is missing from [parameters]");
    }
  }
  return p;
}

Result<CostProfile> find_cost_profile(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml")) {
    return load_cost_profile(name_or_path);
  }
  for (const auto& dir : profile_dirs()) {
    fs::path candidate = dir / (name_or_path + ".toml");
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return load_cost_profile(candidate.string());
  }
  std::string known;
  for (const auto& n : cost_profile_names()) known += (known.empty() ? "" : ", ") + n;
  return make_error("no cost profile '" + name_or_path + "' (known: " + known + ")");
}

std::vector<std::string> cost_profile_names() {
  std::vector<std::string> names;
  for (const auto& dir : profile_dirs()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    }
    if (!names.empty()) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace hvsim
