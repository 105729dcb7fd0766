#pragma once
// What the CPU substrate needs from the memory layer: answers to TLB fills, guest code bytes
// for trap-point scanning, and MMIO windows. Native paging, EPT and shadow paging are
// implementations of AddressTranslator.
#include <cstdint>
#include <cstddef>
#include <optional>

#include "core/cpu/cpu_types.hpp"

namespace hvsim {

struct FillRequest {
  uint64_t page_va = 0;  // linear address of the page (low 12 bits zero)
  Access access = Access::Read;
  unsigned cpl = 0;
};

struct FillResult {
  bool ok = false;
  // On success: CPU-physical page address and the permissions of the TLB entry.
  uint64_t cpu_pa = 0;
  bool read = false, write = false, exec = false;
  // The size of the guest's page that holds page_va (4 KiB, 2 MiB or 1 GiB). The CPU caches
  // every translation as a 4 KiB entry; INVLPG of any address of a larger page must drop all
  // of its entries (UnicornCpu keeps track). Shadow paging leaves it at 4 KiB: there INVLPG
  // is always a trap point and the VMM flushes the whole TLB.
  uint64_t page_size = 4096;
  // On failure: the #PF error code the access produces (P, W, U, RSVD, I bits).
  uint32_t pf_error_code = 0;
  bool non_canonical = false;  // #GP(0) rather than #PF
  // The translator granted something it must look at again soon (a traced page-table write):
  // the CPU stops at the next block boundary with StopKind::MemorySync.
  bool sync_after = false;
};

class AddressTranslator {
 public:
  virtual ~AddressTranslator() = default;
  virtual FillResult fill(const FillRequest& request) = 0;
  // The CPU-physical address of linear address `va` in the current address space, without
  // side effects (no A/D updates, no fault); nullopt when it does not translate.
  virtual std::optional<uint64_t> probe(uint64_t va) = 0;
};

// A device window on the MMIO bus as the CPU sees it: offsets are relative to the window.
class MmioHandler {
 public:
  virtual ~MmioHandler() = default;
  virtual uint64_t mmio_read(uint64_t offset, unsigned size) = 0;
  virtual void mmio_write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

}  // namespace hvsim
