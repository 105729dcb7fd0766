#pragma once
// Guest code around RIP, for the code view: read through the guest's own page tables without
// side effects (no accessed/dirty bits set, nothing the guest could notice), then decoded and
// formatted with Zydis, each instruction classified as a trap point or not.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu/trap_points.hpp"
#include "core/mem/guest_ram.hpp"

namespace hvsim::gui {

struct DisasmLine {
  uint64_t address = 0;
  unsigned length = 0;
  std::string bytes;            // "0f 01 d9"
  std::string text;             // Intel syntax
  std::optional<TrapKind> trap; // an instruction of a trap-point kind
  bool trapped = false;         // ... and the engine's policy traps it now
  bool at_rip = false;
  bool valid = true;            // false: the bytes are not an instruction
};

// "0f 01 d9": bytes as the code views print them.
std::string hex_bytes(const uint8_t* bytes, size_t size);

// Decodes instructions from `bytes` (guest-linear `base` onwards): up to `before` that end
// exactly at `rip` (x86 cannot be decoded backwards, so the farthest start whose decoding
// lands on `rip` is taken), the one at `rip`, and up to `after` more.
std::vector<DisasmLine> disassemble_window(const uint8_t* bytes, size_t size, uint64_t base, uint64_t rip,
                                           unsigned before, unsigned after, const TrapSet& policy);

// Copies guest code at linear `va` through the guest's tables (read at CPL 0, no A/D
// updates); returns how many bytes were readable from `va` on.
size_t read_guest_code(GuestRam& ram, const PagingControl& control, uint64_t va, uint8_t* out, size_t size);

// Reads and decodes the window around `rip`.
std::vector<DisasmLine> code_around(GuestRam& ram, const PagingControl& control, uint64_t rip, unsigned before,
                                    unsigned after, const TrapSet& policy);

}  // namespace hvsim::gui
