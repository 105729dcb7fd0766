#pragma once
// Machine memory as the memory view draws it: runs of frames with one owner (each guest's
// RAM, the VMM's structures for a guest, free), and addresses binned into the cells of a
// strip (where isolation events landed in a guest's physical address space).
#include <cstdint>
#include <string>
#include <vector>

#include "core/mem/machine_memory.hpp"

namespace hvsim::gui {

struct OwnerRun {
  uint64_t first_frame = 0;
  uint64_t frames = 0;
  std::string owner;  // "" for free frames
};

struct MachineMap {
  uint64_t frames = 0;
  std::vector<OwnerRun> runs;
  std::vector<std::string> owners;  // distinct, in order of first appearance (legend)
  // The owner of frame `frame`, "" when free or out of range.
  const std::string& owner_of_frame(uint64_t frame) const;
};

MachineMap map_machine(const MachineMemory& memory);

// Counts how many of `addresses` fall in each of `cells` equal parts of [0, limit).
std::vector<uint32_t> bin_addresses(const std::vector<uint64_t>& addresses, uint64_t limit, unsigned cells);

}  // namespace hvsim::gui
