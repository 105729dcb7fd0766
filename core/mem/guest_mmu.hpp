#pragma once
// What every MMU of a guest shares: the paging controls read from the vCPU, the device
// windows, guest RAM and its p2m, the counters, and what happens at a guest-physical address
// with nothing behind it (an isolation event, then the empty bus). Native paging, EPT and
// shadow paging derive from it.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/cpu/cpu_memory.hpp"
#include "core/cpu/unicorn_cpu.hpp"
#include "core/mem/guest_ram.hpp"
#include "core/mem/mem_counters.hpp"
#include "core/mem/p2m.hpp"
#include "core/mem/page_walker.hpp"

namespace hvsim {

// A page of "nothing": reads return all ones and writes are dropped, as on a bus with no
// device; every fill that lands here is reported.
constexpr uint64_t kOpenBusPage = 0xff'ffff'f000ull;  // CPU-physical, just below 2^40
// Instruction fetches from nothing (or from a device window) read all ones too; they go to
// this read-only RAM page of 0xff bytes, which decodes as an invalid opcode (#UD), because
// Unicorn cannot execute from an MMIO region.
constexpr uint64_t kOpenBusCodePage = 0xff'ffff'e000ull;

struct UnbackedAccess {
  uint64_t gpa = 0, va = 0;
  Access access = Access::Read;
  bool paging_structure = false;  // the guest's page walk itself reached nothing
};

class GuestMmu : public AddressTranslator {
 public:
  GuestMmu(GuestRam& ram, P2m p2m) : ram_(ram), p2m_(std::move(p2m)) {}
  void attach(UnicornCpu& cpu) { cpu_ = &cpu; }
  void add_mmio_window(uint64_t gpa, uint64_t size) { mmio_.push_back({gpa, gpa + size}); }
  void on_unbacked(std::function<void(const UnbackedAccess&)> f) { unbacked_ = std::move(f); }
  PagingControl control() const;
  const MemCounters& counters() const { return counters_; }
  const P2m& p2m() const { return p2m_; }
  // Called by the VMM at every stop of the vCPU, before it looks at the guest: deferred work
  // (shadow paging applies traced page-table writes here).
  virtual void sync() {}
  // The guest invalidated the translation of `va` (INVLPG), when the VMM traps it.
  virtual void invlpg(uint64_t) {}
  // The VMM is about to write guest RAM at [gpa, gpa+size) on the guest's behalf (an emulated
  // instruction): shadow paging must see the change to a page table as it sees the guest's.
  virtual void vmm_will_write(uint64_t /*gpa*/, size_t /*size*/) {}

  // Software VMMs with shadow paging take a guest kernel's store to a traced page table as a
  // page fault and emulate it (adaptive binary translation learns which stores do this). When
  // asked, such a fill fails; the stop is a memory fault at the store, and the write it
  // wanted is here until taken. Other MMUs never trap.
  struct TrappedWrite {
    uint64_t va = 0, gpa = 0;
  };
  virtual void set_trap_traced_writes(bool) {}
  virtual std::optional<TrappedWrite> take_trapped_write() { return std::nullopt; }
  // The next traced write goes through as an untrapped one (the VMM could not emulate it).
  virtual void allow_traced_write_once() {}
  // Whether writes to the guest-physical page of `gpa` are traced (it holds a page table).
  virtual bool traces_page(uint64_t /*gpa*/) const { return false; }

 protected:
  bool is_mmio(uint64_t gpa) const;
  // probe() through the guest's own tables and the p2m (native and shadow paging).
  std::optional<uint64_t> probe_guest_tables(uint64_t va);
  // The fill's answer for a guest-physical page that is not RAM: the device window itself, or
  // the empty bus after an isolation event.
  FillResult outside_ram(uint64_t page_gpa, const FillRequest& req, FillResult r);
  void report_unbacked(const UnbackedAccess& a);
  GuestRam& ram_;
  P2m p2m_;
  UnicornCpu* cpu_ = nullptr;
  MemCounters counters_;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> mmio_;
  std::function<void(const UnbackedAccess&)> unbacked_;
};

}  // namespace hvsim
