#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/log/event_log.hpp"

using namespace hvsim;

TEST_CASE("EventLog: records chain by hash and an edit is detected") {
  std::string path = "event_log_test.jsonl";
  {
    auto log = EventLog::open(path);
    REQUIRE(log.ok());
    for (int i = 0; i < 5; ++i) {
      LogRecord r;
      r.time_ns = i * 10;
      r.guest = "g";
      r.kind = "exception";
      r.num("vector", 13).str("name", "#GP \"quoted\"");
      (*log)->append(r);
    }
  }
  auto ok = verify_log_chain(path);
  REQUIRE(ok.ok());
  CHECK(*ok == 5);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto pos = text.find("\"t\":20");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 6, "\"t\":21");
  std::ofstream(path) << text;
  CHECK(!verify_log_chain(path).ok());
  std::remove(path.c_str());
}
