#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "app/scenario.hpp"

using namespace hvsim;
namespace fs = std::filesystem;

namespace {
// Writes `text` as a scenario file in a scratch folder and loads it with build dir "/b".
Result<Scenario> load_text(const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "hvsim-scenario-test";
  fs::create_directories(dir);
  fs::path file = dir / "s.toml";
  std::ofstream(file) << text;
  return load_scenario(file.string(), "/b");
}
std::string error_of(const std::string& text) {
  auto r = load_text(text);
  return r.ok() ? std::string() : r.error().message;
}
const std::string kMinimal = "[guest]\nkernel = \"{build}/k.elf\"\n";
}  // namespace

TEST_CASE("Scenario: a full scenario loads with defaults and resolved paths") {
  auto r = load_text(
      "name = \"demo\"\nengine = \"native\"\n[guest]\nkernel = \"{build}/guest/kernel.elf\"\n"
      "programs = [\"init\", \"/abs/prog\"]\ncmdline = \"init x\"\nmemory_mib = 128\n"
      "[expect]\nexit_status = 3\nconsole = [\"a\", \"b\"]\n");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->name == "demo");
  CHECK(r->kernel == "/b/guest/kernel.elf");
  CHECK(r->programs.size() == 2);
  CHECK(fs::path(r->programs[0]).filename() == "init");
  CHECK(fs::path(r->programs[0]).is_absolute());
  CHECK(r->programs[1] == "/abs/prog");
  CHECK(r->memory_mib == 128);
  CHECK(r->exit_status == 3);
  CHECK(r->console == std::vector<std::string>{"a", "b"});
  auto m = load_text(kMinimal);
  REQUIRE(m.ok());
  CHECK(m->name == "s");
  CHECK(m->memory_mib == 64);
  CHECK(m->engine == "native");
}

TEST_CASE("Scenario: mistakes are errors that name the key and line") {
  CHECK(error_of("[guest]\nkernal = \"k\"\n").find("unknown key 'kernal' in [guest] (line 2)") != std::string::npos);
  CHECK(error_of("[guest]\n").find("missing key 'kernel'") != std::string::npos);
  CHECK(error_of("name = 1\n" + kMinimal).find("'name'") != std::string::npos);
  CHECK(error_of(kMinimal + "memory_mib = \"lots\"\n").find("wrong type") != std::string::npos);
  CHECK(error_of(kMinimal + "memory_mib = 1\n").find("2 to 4096") != std::string::npos);
  CHECK(error_of(kMinimal + "programs = \"init\"\n").find("array of strings") != std::string::npos);
  CHECK(error_of(kMinimal + "programs = [1]\n").find("strings only") != std::string::npos);
  CHECK(error_of(kMinimal + "[expect]\nexit_status = 300\n").find("0 to 255") != std::string::npos);
  CHECK(error_of("name = \"x\"\n").find("missing table [guest]") != std::string::npos);
  CHECK(error_of("[guest\nkernel = 1").find("line 1") != std::string::npos);  // syntax error
  CHECK(error_of("surprise = true\n" + kMinimal).find("unknown key 'surprise'") != std::string::npos);
  CHECK(!load_scenario("/nonexistent/s.toml", "/b").ok());
}

TEST_CASE("Scenario: the verdict needs the exit status and the console lines in order") {
  Scenario s;
  s.exit_status = 0;
  s.console = {"one", "three"};
  CHECK(check_scenario(s, 0, "one\ntwo\nthree\n").passed);
  CHECK(check_scenario(s, 0, "one\r\nthree\r\n").passed);
  auto out_of_order = check_scenario(s, 0, "three\none\n");
  CHECK(!out_of_order.passed);
  CHECK(out_of_order.failures[0].find("\"three\"") != std::string::npos);
  auto partial = check_scenario(s, 0, "one two\nthree\n");  // whole lines, not substrings
  CHECK(!partial.passed);
  auto status = check_scenario(s, 2, "one\nthree\n");
  CHECK(!status.passed);
  CHECK(status.failures[0].find("exit status 2, expected 0") != std::string::npos);
}
