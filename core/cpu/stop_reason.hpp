#pragma once
#include <cstdint>
#include <string>

#include "core/cpu/cpu_types.hpp"
#include "core/cpu/trap_points.hpp"

namespace hvsim {

enum class StopKind : uint8_t {
  Exception,       // a fault raised by the CPU (vector, error code); RIP at the instruction
  MemoryFault,     // the MMU refused a TLB fill (page fault); RIP at the instruction
  TrapPoint,       // stopped before an instruction of a trapped kind; RIP at it
  InvalidOpcode,   // #UD; RIP at the instruction
  BudgetExhausted, // instruction budget reached at a block boundary
  StopRequested,   // request_stop() from the VMM or another thread
  MemorySync,      // the MMU asked to look at memory at the next block boundary (FillResult)
  InterruptWindow, // RFLAGS.IF became 1 while the VMM watched for it, at a block boundary
  CodeWrite,       // before a store to a watched code frame (UnicornCpu::set_code_write_barrier);
                   // RIP at the storing instruction, which has not run; fault_page its page
  MmioSync,        // a device asked for a stop after an MMIO write (an interrupt it let through);
                   // RIP after the writing instruction (UnicornCpu::request_stop_after_mmio_write)
  TripleFault,     // the CPU gave up (never a host crash)
  HostError,       // the substrate failed (unbacked physical address, internal error)
};
const char* stop_kind_name(StopKind k);

struct StopReason {
  StopKind kind = StopKind::BudgetExhausted;
  uint64_t rip = 0;
  // Exception
  uint8_t vector = 0;
  uint32_t error_code = 0;
  // TrapPoint
  TrapKind trap = TrapKind::Count;
  // MemoryFault: the page and access the MMU refused and the #PF error code it computed
  uint64_t fault_page = 0;
  Access fault_access = Access::Read;
  bool fault_non_canonical = false;
  // HostError / TripleFault
  std::string detail;
};

}  // namespace hvsim
