#pragma once
// Delivery of exceptions and interrupts through the guest's 64-bit IDT, as SDM Vol. 3A,
// 6.12-6.15 describes: gate checks, privilege change with TSS RSP0 or IST stacks, the 64-bit
// frame, error codes, IF masking, and #DF / triple fault when delivery itself faults.
#include <cstdint>
#include <optional>

#include "core/cpu/unicorn_cpu.hpp"
#include "core/mem/linear_memory.hpp"

namespace hvsim {

enum class EventType : uint8_t {
  External,           // external interrupt (EXT=1, no DPL check)
  HardwareException,  // fault or trap raised by an instruction (EXT=1)
  SoftwareInterrupt,  // INT n (DPL check, return after the instruction)
  SoftwareException,  // INT3, INTO (DPL check)
  PrivilegedSoftware, // INT1 / ICEBP (no DPL check)
};

struct Event {
  uint8_t vector = 0;
  EventType type = EventType::HardwareException;
  std::optional<uint32_t> error_code;
  uint64_t return_rip = 0;       // RIP pushed in the frame
  uint64_t instruction_rip = 0;  // the instruction that raised it (a fault in delivery points here)
};

enum class DeliveryResult : uint8_t { Delivered, TripleFault };

struct DeliveryOutcome {
  DeliveryResult result = DeliveryResult::Delivered;
  Event delivered;  // the event finally delivered (#DF when escalated)
  int nested_faults = 0;
};

// Delivers `ev`, escalating to #DF and triple fault per SDM Table 6-5. On success the CPU is
// at the handler's first instruction with the frame pushed.
DeliveryOutcome deliver_event(UnicornCpu& cpu, LinearMemory& mem, const Event& ev);

// The hardware exception for `vector` with the architectural error code rules.
Event hardware_exception(uint8_t vector, uint64_t rip, uint32_t error_code = 0);

}  // namespace hvsim
