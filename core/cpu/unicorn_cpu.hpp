#pragma once
// The CPU substrate: the one adapter that owns Unicorn (docs/architecture.md, "CPU substrate").
// Unicorn executes instructions; this adapter adds what it lacks for a VMM: typed stop
// reasons, precise trap points, deterministic instruction counting, segment hidden parts and
// CPL changes, a TPR for CR8, and a reset exception latch. No other file includes unicorn.h.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/cpu/cpu_memory.hpp"
#include "core/cpu/cpu_types.hpp"
#include "core/cpu/stop_reason.hpp"
#include "core/cpu/trap_points.hpp"
#include "core/isa/decoder.hpp"
#include "core/util/result.hpp"

namespace hvsim {

// Everything needed to resume a CPU exactly: opaque substrate bytes plus the state the
// adapter keeps beside Unicorn.
struct CpuSnapshot {
  std::vector<uint8_t> substrate;
  uint64_t tpr = 0;
  uint64_t instructions_retired = 0;
};

struct CpuCounters {
  uint64_t blocks_scanned = 0;
  uint64_t trap_sites = 0;
  uint64_t trap_points_hit = 0;
  uint64_t exceptions = 0;
  uint64_t tlb_fills = 0;
  uint64_t tlb_fill_faults = 0;
  uint64_t code_invalidations = 0;
  uint64_t tlb_flushes = 0;
  uint64_t large_page_invlpgs = 0;  // INVLPGs of an address in a 2 MiB or 1 GiB page: full flushes
  uint64_t mmio_writes_emulated = 0;  // MOVs to a precise MMIO window the adapter performed
  uint64_t mmio_writes_stepped = 0;   // other writes there, run alone
};

class UnicornCpu {
 public:
  // Probes and verifies Unicorn's internals on first use; an error names what failed.
  static Result<std::unique_ptr<UnicornCpu>> create(AddressTranslator& translator);
  ~UnicornCpu();
  UnicornCpu(const UnicornCpu&) = delete;
  UnicornCpu& operator=(const UnicornCpu&) = delete;

  // Memory as the CPU sees it (CPU-physical addresses).
  Result<void> map_ram(uint64_t cpu_pa, uint64_t size, uint8_t* host);
  // With `precise_writes`, no guest store reaches the window through a TLB entry: the CPU
  // stops before the storing instruction, and the adapter performs it (a MOV) or runs it
  // alone, so a device can have the CPU stop right after it (request_stop_after_mmio_write).
  // Costs a stop per write; reads go through as usual.
  Result<void> map_mmio(uint64_t cpu_pa, uint64_t size, MmioHandler& handler, bool precise_writes = false);

  // Runs until a stop; never returns before at least one block when `budget` > 0.
  // Stops at the first block boundary at which `budget` instructions have retired.
  StopReason run(uint64_t budget);
  void request_stop();  // thread-safe
  // Called by a device while it handles an MMIO write: run() stops right after the writing
  // instruction (StopKind::MmioSync), in a window mapped with precise_writes; elsewhere at the
  // next block boundary.
  void request_stop_after_mmio_write();
  // True once if request_stop() was called since the last stop it caused: for a VMM that
  // does not run the CPU (a halted vCPU) but must still honour it.
  bool take_stop_request();
  // While on, run() also stops (StopKind::InterruptWindow) at the first block boundary at
  // which RFLAGS.IF is 1: an interrupt waits for the guest to enable interrupts. Every
  // instruction that can set IF (STI, POPF, IRETQ, SYSRET) ends its block in the substrate,
  // so the stop comes right after it; after STI the CPU still holds its shadow there.
  // Costs a flags read per block while on, nothing while off.
  void set_interrupt_window_stop(bool on);

  // Trap points.
  void set_trap_policy(const TrapSet& kinds);
  const TrapSet& trap_policy() const;
  // The instruction of the last TrapPoint stop, as decoded when it was hit.
  const Instruction& trap_instruction() const;
  // Decodes the instruction at linear `va` in the current address space (nullopt if unmapped).
  std::optional<Instruction> decode_at(uint64_t va) const;
  // The next run executes the instruction at RIP natively even if it is a trap point.
  void pass_trap_once();
  // The VMM rewrote code at linear [va, va + size): drop every translation of it.
  void invalidate_code(uint64_t va, uint64_t size);
  // The VMM translated code from the frame at CPU-physical `cpu_pa`: the first guest store to
  // it (through any mapping) makes the CPU stop at the next block boundary (MemorySync), and
  // the frame's address is then in take_written_code_frames(); watch it again to hear more.
  void watch_code_frame(uint64_t cpu_pa);
  std::vector<uint64_t> take_written_code_frames();
  // A store to a watched frame by CPL-0 code in a block for which `stops_before_store(block
  // address)` holds does not wait for the block boundary: the CPU stops before it
  // (StopKind::CodeWrite, RIP at the storing instruction), because the rest of the block may
  // be a translation of the very bytes it writes. Stores from other blocks go on as above.
  void set_code_write_barrier(std::function<bool(uint64_t)> stops_before_store);
  // Linear [va, va + size) holds VMM code (a translation cache) whose HLTs are callouts: a
  // HLT there stops the CPU as a TrapPoint of kind HLT at it (whatever the trap policy).
  void set_callout_range(uint64_t va, uint64_t size);
  // Instructions for which `is_vmm_instruction(address)` holds do not retire as guest
  // instructions (a binary translator's chaining jumps, its in-cache lookups); a fault after
  // them in their block uncharges only the guest instructions from it on.
  void set_uncounted(std::function<bool(uint64_t)> is_vmm_instruction);
  // Where CR8 (the task-priority class) lives: a byte the caller keeps, which code the CPU
  // runs may read and write (a binary translator's in-cache MOV to and from CR8), or, with
  // nullptr, the adapter's own. The value moves along. The byte must outlive the adapter.
  void set_tpr_home(uint8_t* byte);

  // Guest instructions retired (the basis of virtual time).
  uint64_t instructions_retired() const;
  void add_retired(uint64_t n);  // instructions the VMM emulated

  // Registers.
  uint64_t gpr(Gpr r) const;
  void set_gpr(Gpr r, uint64_t v);
  uint64_t rip() const;
  void set_rip(uint64_t v);
  uint64_t rflags() const;
  void set_rflags(uint64_t v);
  uint64_t cr(int n) const;  // 0, 2, 3, 4, 8 (CR8 is the TPR kept by the adapter)
  void set_cr(int n, uint64_t v);
  uint64_t msr(uint32_t index) const;  // only MSRs the substrate implements
  void set_msr(uint32_t index, uint64_t v);
  unsigned cpl() const;
  // True right after STI or MOV SS: interrupts are held for one instruction.
  bool interrupt_shadow() const;
  // The VMM emulated the instruction after STI / MOV SS: the shadow is over.
  void end_interrupt_shadow();
  // The VMM executed STI (or MOV SS) on the guest's behalf somewhere the CPU's own shadow
  // did not survive (a binary translator's trampoline): interrupts wait one more instruction.
  void begin_interrupt_shadow();
  SegmentState segment(Seg s) const;
  void set_segment(Seg s, const SegmentState& st);  // hidden part included; CS sets the CPL
  DescriptorTableRegister gdtr() const;
  DescriptorTableRegister idtr() const;
  void set_gdtr(const DescriptorTableRegister& d);
  void set_idtr(const DescriptorTableRegister& d);
  SystemSegment ldtr() const;
  SystemSegment tr() const;
  void set_ldtr(const SystemSegment& s);
  void set_tr(const SystemSegment& s);

  CpuSnapshot save() const;
  void restore(const CpuSnapshot& s);

  void flush_tlb();
  // INVLPG of `va` is about to run in the CPU where the adapter does not see it itself (a
  // binary translator's copy of the instruction): when `va` lies in a large page, the whole
  // TLB goes (the substrate's INVLPG drops 4 KiB; the adapter does this on its own for
  // INVLPG in guest code, see unicorn_cpu.cpp, large_pages).
  void prepare_invlpg(uint64_t va);

  const CpuCounters& counters() const;

  struct Impl;
  struct MmioBinding;

 private:
  explicit UnicornCpu(std::unique_ptr<Impl> impl);
  // A write to a precise MMIO window that is no MOV: the instruction runs alone.
  void begin_mmio_step();
  void end_mmio_step();

  std::unique_ptr<Impl> impl_;
};

}  // namespace hvsim
