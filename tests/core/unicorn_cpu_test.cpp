#include <doctest/doctest.h>

#include "core/cpu/unicorn_internals.hpp"

using namespace hvsim;

TEST_CASE("UnicornCpu: internals are found and verified by probing") {
  const auto& in = unicorn_internals();
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.error().message));
  CHECK(in.value().segments == in.value().hflags + 8);
  CHECK(in.value().context_size > in.value().old_exception);
}
