#include "core/mem/machine_memory.hpp"

#include <sys/mman.h>

namespace hvsim {

MachineMemory::MachineMemory(uint64_t bytes) : size_((bytes + kPageSize - 1) & ~(kPageSize - 1)) {
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    size_ = 0;
  } else {
    base_ = static_cast<uint8_t*>(p);
  }
  frame_owner_.assign(size_ / kPageSize, 0);
}

MachineMemory::~MachineMemory() {
  if (base_) munmap(base_, size_);
}

Result<MachineRange> MachineMemory::allocate(uint64_t bytes, const std::string& owner, uint64_t align) {
  uint64_t rounded = (bytes + kPageSize - 1) & ~(kPageSize - 1);
  if (!base_) return make_error("machine memory: the pool could not be reserved");
  if (align < kPageSize || (align & (align - 1))) return make_error("machine memory: bad alignment");
  uint64_t start = (next_ + align - 1) & ~(align - 1);
  if (start < next_ || start > size_) start = size_;
  if (rounded == 0 || rounded > size_ - start) {
    return make_error("machine memory: " + std::to_string(bytes) + " bytes requested for " + owner +
                      ", " + std::to_string(size_ - start) + " free");
  }
  next_ = start;
  owners_.push_back(owner);
  auto id = static_cast<uint16_t>(owners_.size());
  for (uint64_t f = next_ / kPageSize; f < (next_ + rounded) / kPageSize; ++f) frame_owner_[f] = id;
  MachineRange r{next_, rounded, base_ + next_};
  next_ += rounded;
  return r;
}

const std::string& MachineMemory::owner_of(uint64_t machine_address) const {
  static const std::string kFree;
  uint64_t f = machine_address / kPageSize;
  if (f >= frame_owner_.size() || frame_owner_[f] == 0) return kFree;
  return owners_[frame_owner_[f] - 1];
}

}  // namespace hvsim
