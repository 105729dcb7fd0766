#pragma once
// Frames the VMM keeps for its own structures (EPT tables, shadow page tables), carved from the
// machine pool like guest RAM and owned by the VMM in the machine's frame map. Frames are
// handed out zeroed and can be given back; the pool is also a PageTableMemory so the page
// walker can walk structures built in it (by machine address).
#include <cstdint>
#include <string>
#include <vector>

#include "core/mem/machine_memory.hpp"
#include "core/mem/page_walker.hpp"
#include "core/util/result.hpp"

namespace hvsim {

class VmmFrames : public PageTableMemory {
 public:
  static Result<VmmFrames> create(MachineMemory& machine, uint64_t bytes, const std::string& owner);
  // A zeroed frame's machine address, 0 when the pool is exhausted (0 is never a pool frame:
  // the pool cannot start at machine address 0 unless nothing else was allocated first, so
  // the first frame is kept back).
  uint64_t allocate();
  void release(uint64_t mpa);
  void release_all();  // every frame back, zeroed on their next allocation
  uint8_t* host(uint64_t mpa) const;
  bool contains(uint64_t mpa) const { return mpa >= range_.machine_address && mpa - range_.machine_address < range_.size; }
  uint64_t frames_in_use() const { return in_use_; }
  uint64_t capacity() const { return range_.size / kPageSize - 1; }
  uint64_t* entry(uint64_t mpa) override;

 private:
  explicit VmmFrames(MachineRange r) : range_(r) {}
  MachineRange range_;
  std::vector<uint64_t> free_;
  uint64_t next_ = 0;  // frames never handed out start here (offset in the range)
  uint64_t in_use_ = 0;
};

}  // namespace hvsim
