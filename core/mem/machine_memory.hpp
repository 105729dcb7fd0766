#pragma once
// Machine memory: the host's pool of frames from which every guest's RAM is allocated. The
// owner of every frame is known (the GUI's memory map, isolation checks).
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace hvsim {

constexpr uint64_t kPageSize = 4096;

struct MachineRange {
  uint64_t machine_address = 0;  // offset in the pool
  uint64_t size = 0;
  uint8_t* host = nullptr;
};

class MachineMemory {
 public:
  explicit MachineMemory(uint64_t bytes);
  ~MachineMemory();
  MachineMemory(const MachineMemory&) = delete;
  MachineMemory& operator=(const MachineMemory&) = delete;

  // Contiguous, zero-filled frames for `owner` (a guest name, "vmm", ...), starting at a
  // multiple of `align` (a power of two, at least a page); frames skipped stay free.
  Result<MachineRange> allocate(uint64_t bytes, const std::string& owner, uint64_t align = kPageSize);
  uint64_t size() const { return size_; }
  uint64_t free_bytes() const { return size_ - next_; }
  // "" for a free frame.
  const std::string& owner_of(uint64_t machine_address) const;
  // Host pointer to [mpa, mpa+len) when it lies inside allocated frames, else nullptr.
  uint8_t* host(uint64_t mpa, uint64_t len) const {
    return len <= next_ && mpa <= next_ - len ? base_ + mpa : nullptr;
  }

 private:
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t next_ = 0;
  std::vector<std::string> owners_;  // one per allocation
  std::vector<uint16_t> frame_owner_;  // index into owners_ + 1; 0 = free
};

}  // namespace hvsim
