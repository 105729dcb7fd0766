#include "gui/memory_map.hpp"

#include <algorithm>

namespace hvsim::gui {

const std::string& MachineMap::owner_of_frame(uint64_t frame) const {
  static const std::string none;
  // Runs are sorted and contiguous: binary search on the first frame.
  auto it = std::upper_bound(runs.begin(), runs.end(), frame,
                             [](uint64_t f, const OwnerRun& r) { return f < r.first_frame; });
  if (it == runs.begin()) return none;
  --it;
  return frame - it->first_frame < it->frames ? it->owner : none;
}

MachineMap map_machine(const MachineMemory& memory) {
  MachineMap map;
  map.frames = memory.size() / kPageSize;
  for (uint64_t f = 0; f < map.frames; ++f) {
    const std::string& owner = memory.owner_of(f * kPageSize);
    if (!map.runs.empty() && map.runs.back().owner == owner) {
      ++map.runs.back().frames;
      continue;
    }
    map.runs.push_back(OwnerRun{f, 1, owner});
    if (!owner.empty() && std::find(map.owners.begin(), map.owners.end(), owner) == map.owners.end()) {
      map.owners.push_back(owner);
    }
  }
  return map;
}

std::vector<uint32_t> bin_addresses(const std::vector<uint64_t>& addresses, uint64_t limit, unsigned cells) {
  std::vector<uint32_t> bins(cells, 0);
  if (cells == 0 || limit == 0) return bins;
  for (uint64_t a : addresses) {
    if (a >= limit) continue;
    // 128-bit product: limit may be close to 2^64 and cells large.
    auto cell = static_cast<size_t>((static_cast<unsigned __int128>(a) * cells) / limit);
    ++bins[std::min<size_t>(cell, cells - 1)];
  }
  return bins;
}

}  // namespace hvsim::gui
