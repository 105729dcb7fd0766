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
  REQUIRE(r->guests.size() == 1);
  const GuestSpec& g = r->guests[0];
  CHECK(g.kernel == "/b/guest/kernel.elf");
  CHECK(g.programs.size() == 2);
  CHECK(fs::path(g.programs[0]).filename() == "init");
  CHECK(fs::path(g.programs[0]).is_absolute());
  CHECK(g.programs[1] == "/abs/prog");
  CHECK(g.memory_mib == 128);
  CHECK(g.exit_status == 3);
  CHECK(g.console == std::vector<std::string>{"a", "b"});
  auto m = load_text(kMinimal);
  REQUIRE(m.ok());
  CHECK(m->name == "s");
  CHECK(m->guests[0].memory_mib == 64);
  CHECK(m->guests[0].name == "guest0");
  CHECK(m->engine == "native");
  CHECK(m->paging.empty());  // the engine decides
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

TEST_CASE("Scenario: several guests, each with a name and its own expectations") {
  auto r = load_text(
      "paging = \"ept\"\nslice_us = 500\n"
      "[[guest]]\nname = \"alpha\"\nkernel = \"k.elf\"\n[guest.expect]\nconsole = [\"a\"]\n"
      "[[guest]]\nname = \"beta\"\nflat = \"b.bin\"\n[guest.expect]\nexit_status = 7\n");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  REQUIRE(r->guests.size() == 2);
  CHECK(r->paging == "ept");
  CHECK(r->slice_us == 500);
  CHECK(r->guests[0].name == "alpha");
  CHECK(r->guests[0].console == std::vector<std::string>{"a"});
  CHECK(fs::path(r->guests[1].flat).filename() == "b.bin");
  CHECK(r->guests[1].exit_status == 7);
  const std::string two = "[[guest]]\nname = \"a\"\nkernel = \"k\"\n[[guest]]\nname = \"a\"\nkernel = \"k\"\n";
  CHECK(error_of(two).find("two guests are named 'a'") != std::string::npos);
  CHECK(error_of("[[guest]]\nkernel = \"k\"\n").find("missing key 'name'") != std::string::npos);
  CHECK(error_of("[[guest]]\nname = \"a\"\nkernel = \"k\"\n[expect]\n").find("[guest.expect]") != std::string::npos);
  CHECK(error_of("[guest]\nkernel = \"k\"\nflat = \"f\"\n").find("exactly one") != std::string::npos);
  CHECK(error_of("paging = \"nested\"\n" + kMinimal).find("native, ept or shadow") != std::string::npos);
  CHECK(error_of("[[guest]]\nname = \"a b\"\nkernel = \"k\"\n").find("without spaces") != std::string::npos);
}

TEST_CASE("Scenario: the verdict needs the exit status and the console lines in order") {
  GuestSpec s;
  s.exit_status = 0;
  s.console = {"one", "three"};
  CHECK(check_guest(s, 0, "one\ntwo\nthree\n").passed);
  CHECK(check_guest(s, 0, "one\r\nthree\r\n").passed);
  auto out_of_order = check_guest(s, 0, "three\none\n");
  CHECK(!out_of_order.passed);
  CHECK(out_of_order.failures[0].find("\"three\"") != std::string::npos);
  auto partial = check_guest(s, 0, "one two\nthree\n");  // whole lines, not substrings
  CHECK(!partial.passed);
  auto status = check_guest(s, 2, "one\nthree\n");
  CHECK(!status.passed);
  CHECK(status.failures[0].find("exit status 2, expected 0") != std::string::npos);
}
