#include <doctest/doctest.h>

#include "gui/memory_map.hpp"

using namespace hvsim;
using namespace hvsim::gui;

TEST_CASE("MemoryMap: machine frames are grouped into runs by owner, free frames included") {
  MachineMemory machine(16 * kPageSize);
  REQUIRE(machine.allocate(2 * kPageSize, "vmm/a"));
  REQUIRE(machine.allocate(4 * kPageSize, "a", 8 * kPageSize));  // frames 2..7 stay free
  const MachineMap map = map_machine(machine);
  CHECK(map.frames == 16);
  REQUIRE(map.runs.size() == 4);
  CHECK(map.runs[0].owner == "vmm/a");
  CHECK(map.runs[0].frames == 2);
  CHECK(map.runs[1].owner.empty());
  CHECK(map.runs[1].frames == 6);
  CHECK(map.runs[2].owner == "a");
  CHECK(map.runs[2].first_frame == 8);
  CHECK(map.runs[3].owner.empty());
  CHECK(map.owners == std::vector<std::string>{"vmm/a", "a"});
  CHECK(map.owner_of_frame(9) == "a");
  CHECK(map.owner_of_frame(3).empty());
  CHECK(map.owner_of_frame(99).empty());
}

TEST_CASE("MemoryMap: addresses are binned into equal cells, those beyond the limit dropped") {
  const auto bins = bin_addresses({0, 10, 99, 50, 100, 1000}, 100, 4);
  REQUIRE(bins.size() == 4);
  CHECK(bins[0] == 2);
  CHECK(bins[2] == 1);
  CHECK(bins[3] == 1);
  CHECK(bin_addresses({~0ull - 1}, ~0ull, 8)[7] == 1);  // no overflow near the top
  CHECK(bin_addresses({1}, 0, 3) == std::vector<uint32_t>{0, 0, 0});
}
