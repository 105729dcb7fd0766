#include "core/mem/vmm_frames.hpp"

#include <cstring>

namespace hvsim {

Result<VmmFrames> VmmFrames::create(MachineMemory& machine, uint64_t bytes, const std::string& owner) {
  auto range = machine.allocate(bytes + kPageSize, owner);
  if (!range) return range.error();
  VmmFrames f(*range);
  f.next_ = kPageSize;  // the first frame is kept back: 0 means "none"
  return f;
}

uint64_t VmmFrames::allocate() {
  uint64_t offset;
  if (!free_.empty()) {
    offset = free_.back();
    free_.pop_back();
  } else if (next_ < range_.size) {
    offset = next_;
    next_ += kPageSize;
  } else {
    return 0;
  }
  std::memset(range_.host + offset, 0, kPageSize);
  ++in_use_;
  return range_.machine_address + offset;
}

void VmmFrames::release(uint64_t mpa) {
  if (!contains(mpa) || mpa - range_.machine_address < kPageSize) return;
  free_.push_back((mpa - range_.machine_address) & ~(kPageSize - 1));
  --in_use_;
}

void VmmFrames::release_all() {
  free_.clear();
  next_ = kPageSize;
  in_use_ = 0;
}

uint8_t* VmmFrames::host(uint64_t mpa) const {
  return contains(mpa) ? range_.host + (mpa - range_.machine_address) : nullptr;
}

uint64_t* VmmFrames::entry(uint64_t mpa) {
  if ((mpa & 7) || !contains(mpa) || mpa - range_.machine_address < kPageSize) return nullptr;
  return reinterpret_cast<uint64_t*>(range_.host + (mpa - range_.machine_address));
}

}  // namespace hvsim
