#include "app/scenario.hpp"

#include "core/mem/paging_mode.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <set>
#include <sstream>

namespace hvsim {
namespace {

namespace fs = std::filesystem;

std::string where(const toml::node& n) {
  const auto& src = n.source();
  return "line " + std::to_string(src.begin.line);
}

// Keys a table may hold; anything else is a typo the user should hear about.
Result<void> only_keys(const toml::table& t, const std::set<std::string>& allowed, const std::string& table) {
  for (const auto& [key, node] : t) {
    if (!allowed.count(std::string(key.str()))) {
      return make_error("unknown key '" + std::string(key.str()) + "' in " + table + " (" + where(node) + ")");
    }
  }
  return {};
}

template <typename T>
Result<T> get(const toml::table& t, const std::string& key, const std::string& table, T fallback, bool required) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) return make_error("missing key '" + key + "' in " + table);
    return fallback;
  }
  if (auto v = n->value<T>()) return *v;
  return make_error("key '" + key + "' in " + table + " (" + where(*n) + ") has the wrong type");
}

Result<std::vector<std::string>> get_strings(const toml::table& t, const std::string& key, const std::string& table) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) return make_error("key '" + key + "' in " + table + " (" + where(*n) + ") must be an array of strings");
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return make_error("key '" + key + "' in " + table + " (" + where(e) + ") must hold strings only");
    out.push_back(*s);
  }
  return out;
}

std::string resolve(const std::string& p, const fs::path& base, const std::string& build_dir) {
  std::string s = p;
  for (size_t pos; (pos = s.find("{build}")) != std::string::npos;) s.replace(pos, 7, build_dir);
  fs::path path(s);
  return (path.is_absolute() ? path : base / path).lexically_normal().string();
}

}  // namespace

Result<Scenario> load_scenario(const std::string& path, const std::string& build_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error("scenario '" + path + "': no such file");
  if (fs::file_size(path, ec) > (1u << 20)) return make_error("scenario '" + path + "': larger than 1 MiB");
  toml::table root;
  try {  // toml++ reports syntax errors as exceptions; turn them into values here
    root = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return make_error("scenario '" + path + "', line " + std::to_string(err.source().begin.line) + ": " +
                      std::string(err.description()));
  }
  auto fail = [&](const Error& e) { return make_error("scenario '" + path + "': " + e.message); };
  if (auto r = only_keys(root, {"name", "description", "engine", "paging", "guest", "expect"}, "the scenario"); !r) return fail(r.error());

  Scenario s;
  const fs::path base = fs::path(path).parent_path();
  auto name = get<std::string>(root, "name", "the scenario", fs::path(path).stem().string(), false);
  auto desc = get<std::string>(root, "description", "the scenario", "", false);
  auto engine = get<std::string>(root, "engine", "the scenario", "native", false);
  auto paging = get<std::string>(root, "paging", "the scenario", "native", false);
  for (auto* r : {&name, &desc, &engine, &paging})
    if (!*r) return fail(r->error());
  if (!parse_paging_mode(*paging)) {
    return fail(make_error("paging must be native, ept or shadow, not '" + *paging + "'"));
  }
  s.paging = *paging;
  s.name = *name;
  s.description = *desc;
  s.engine = *engine;

  const toml::table* guest = root["guest"].as_table();
  if (!guest) return fail(make_error("missing table [guest]"));
  if (auto r = only_keys(*guest, {"kernel", "programs", "cmdline", "memory_mib", "max_instructions"}, "[guest]"); !r) {
    return fail(r.error());
  }
  auto kernel = get<std::string>(*guest, "kernel", "[guest]", "", true);
  auto cmdline = get<std::string>(*guest, "cmdline", "[guest]", "", false);
  auto memory = get<int64_t>(*guest, "memory_mib", "[guest]", 64, false);
  auto budget = get<int64_t>(*guest, "max_instructions", "[guest]", 0, false);
  auto programs = get_strings(*guest, "programs", "[guest]");
  if (!kernel) return fail(kernel.error());
  if (!cmdline) return fail(cmdline.error());
  if (!memory) return fail(memory.error());
  if (!budget) return fail(budget.error());
  if (!programs) return fail(programs.error());
  if (*memory < 2 || *memory > 4096) return fail(make_error("[guest] memory_mib must be 2 to 4096"));
  if (*budget < 0) return fail(make_error("[guest] max_instructions must not be negative"));
  s.kernel = resolve(*kernel, base, build_dir);
  for (const auto& p : *programs) s.programs.push_back(resolve(p, base, build_dir));
  s.cmdline = *cmdline;
  s.memory_mib = static_cast<uint64_t>(*memory);
  s.max_instructions = static_cast<uint64_t>(*budget);

  if (const toml::node* e = root.get("expect")) {
    const toml::table* expect = e->as_table();
    if (!expect) return fail(make_error("[expect] must be a table"));
    if (auto r = only_keys(*expect, {"exit_status", "console"}, "[expect]"); !r) return fail(r.error());
    auto status = get<int64_t>(*expect, "exit_status", "[expect]", 0, false);
    auto console = get_strings(*expect, "console", "[expect]");
    if (!status) return fail(status.error());
    if (!console) return fail(console.error());
    if (*status < 0 || *status > 255) return fail(make_error("[expect] exit_status must be 0 to 255"));
    s.exit_status = static_cast<int>(*status);
    s.console = *console;
  }
  return s;
}

ScenarioVerdict check_scenario(const Scenario& s, int exit_status, const std::string& console) {
  ScenarioVerdict v;
  if (exit_status != s.exit_status) {
    v.failures.push_back("exit status " + std::to_string(exit_status) + ", expected " + std::to_string(s.exit_status));
  }
  std::istringstream lines(console);
  std::string line;
  size_t next = 0;
  while (next < s.console.size() && std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == s.console[next]) ++next;
  }
  if (next < s.console.size()) {
    v.failures.push_back("console line not seen (in order): \"" + s.console[next] + "\"");
  }
  v.passed = v.failures.empty();
  return v;
}

}  // namespace hvsim
