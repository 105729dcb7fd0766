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


// One guest's table; `expect` is its expectations table (may be null).
Result<GuestSpec> parse_guest(const toml::table& t, const std::string& table, const toml::node* expect_node,
                              const std::string& expect_table, bool needs_name, const fs::path& base,
                              const std::string& build_dir) {
  GuestSpec g;
  std::set<std::string> keys = {"name", "kernel", "flat", "programs", "cmdline", "memory_mib", "max_instructions"};
  if (needs_name) keys.insert("expect");
  if (auto r = only_keys(t, keys, table); !r) return r.error();
  auto name = get<std::string>(t, "name", table, "guest0", needs_name);
  auto kernel = get<std::string>(t, "kernel", table, "", false);
  auto flat = get<std::string>(t, "flat", table, "", false);
  auto cmdline = get<std::string>(t, "cmdline", table, "", false);
  auto memory = get<int64_t>(t, "memory_mib", table, 64, false);
  auto budget = get<int64_t>(t, "max_instructions", table, 0, false);
  auto programs = get_strings(t, "programs", table);
  for (auto* r : {&name, &kernel, &flat, &cmdline})
    if (!*r) return r->error();
  if (!memory) return memory.error();
  if (!budget) return budget.error();
  if (!programs) return programs.error();
  if (kernel->empty() == flat->empty()) return make_error("missing key 'kernel' (or 'flat') in " + table + ": exactly one");
  if (!flat->empty() && (!programs->empty() || !cmdline->empty())) {
    return make_error(table + " 'flat' guests take no programs or cmdline");
  }
  if (name->empty() || name->size() > 32 || name->find_first_of(" \t\n:") != std::string::npos) {
    return make_error(table + " name must be 1 to 32 characters without spaces or ':'");
  }
  if (*memory < 2 || *memory > 4096) return make_error(table + " memory_mib must be 2 to 4096");
  if (*budget < 0) return make_error(table + " max_instructions must not be negative");
  g.name = *name;
  if (!kernel->empty()) g.kernel = resolve(*kernel, base, build_dir);
  if (!flat->empty()) g.flat = resolve(*flat, base, build_dir);
  for (const auto& p : *programs) g.programs.push_back(resolve(p, base, build_dir));
  g.cmdline = *cmdline;
  g.memory_mib = static_cast<uint64_t>(*memory);
  g.max_instructions = static_cast<uint64_t>(*budget);
  if (expect_node) {
    const toml::table* expect = expect_node->as_table();
    if (!expect) return make_error(expect_table + " must be a table");
    if (auto r = only_keys(*expect, {"exit_status", "console"}, expect_table); !r) return r.error();
    auto status = get<int64_t>(*expect, "exit_status", expect_table, 0, false);
    auto console = get_strings(*expect, "console", expect_table);
    if (!status) return status.error();
    if (!console) return console.error();
    if (*status < 0 || *status > 255) return make_error(expect_table + " exit_status must be 0 to 255");
    g.exit_status = static_cast<int>(*status);
    g.console = *console;
  }
  return g;
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
  if (auto r = only_keys(root, {"name", "description", "engine", "preset", "paging", "slice_us", "guest", "expect"}, "the scenario");
      !r)
    return fail(r.error());

  Scenario s;
  const fs::path base = fs::path(path).parent_path();
  auto name = get<std::string>(root, "name", "the scenario", fs::path(path).stem().string(), false);
  auto desc = get<std::string>(root, "description", "the scenario", "", false);
  auto engine = get<std::string>(root, "engine", "the scenario", "native", false);
  auto paging = get<std::string>(root, "paging", "the scenario", "", false);
  auto preset = get<std::string>(root, "preset", "the scenario", "", false);
  for (auto* r : {&name, &desc, &engine, &paging, &preset})
    if (!*r) return fail(r->error());
  if (*engine != "native" && *engine != "vtx" && *engine != "bt") {
    return fail(make_error("engine must be native, bt or vtx, not '" + *engine + "'"));
  }
  if (!preset->empty() && *preset != "vtx-2006" && *preset != "vtx-ept") {
    return fail(make_error("preset must be vtx-2006 or vtx-ept, not '" + *preset + "'"));
  }
  if (!paging->empty() && !parse_paging_mode(*paging)) {
    return fail(make_error("paging must be native, ept or shadow, not '" + *paging + "'"));
  }
  auto slice = get<int64_t>(root, "slice_us", "the scenario", 1000, false);
  if (!slice) return fail(slice.error());
  if (*slice < 1 || *slice > 1'000'000) return fail(make_error("slice_us must be 1 to 1000000"));
  s.name = *name;
  s.description = *desc;
  s.engine = *engine;
  s.paging = *paging;
  s.preset = *preset;
  s.slice_us = static_cast<uint64_t>(*slice);

  const toml::node* guests = root.get("guest");
  if (!guests) return fail(make_error("missing table [guest] (or [[guest]] for several guests)"));
  if (const toml::table* one = guests->as_table()) {
    auto g = parse_guest(*one, "[guest]", root.get("expect"), "[expect]", false, base, build_dir);
    if (!g) return fail(g.error());
    s.guests.push_back(std::move(*g));
  } else if (const toml::array* many = guests->as_array()) {
    if (root.get("expect")) return fail(make_error("with several guests, each has its own [guest.expect]"));
    std::set<std::string> names;
    for (const auto& node : *many) {
      const toml::table* t = node.as_table();
      if (!t) return fail(make_error("[[guest]] (" + where(node) + ") must be a table"));
      auto g = parse_guest(*t, "[[guest]]", t->get("expect"), "[guest.expect]", true, base, build_dir);
      if (!g) return fail(g.error());
      if (!names.insert(g->name).second) return fail(make_error("two guests are named '" + g->name + "'"));
      s.guests.push_back(std::move(*g));
    }
    if (s.guests.empty()) return fail(make_error("[[guest]] lists no guest"));
    if (s.guests.size() > 8) return fail(make_error("at most 8 guests"));
  } else {
    return fail(make_error("'guest' must be a table or an array of tables"));
  }
  return s;
}

ScenarioVerdict check_guest(const GuestSpec& s, int exit_status, const std::string& console) {
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
