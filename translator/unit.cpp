#include "translator/unit.hpp"

#include <algorithm>

namespace hvsim::bt {
namespace {

// Reads up to kMaxInsnLength bytes, asking again after a short answer so that a reader that
// stops at page boundaries still yields a whole instruction; stops at the first answer of 0
// and never wraps past the top of the address space.
uint8_t read_insn_bytes(const GuestCodeReader& read, uint64_t va,
                        std::array<uint8_t, kMaxInsnLength>& bytes) {
  size_t got = 0;
  while (got < bytes.size()) {
    const uint64_t at = va + got;
    if (at < va) break;  // wrapped around 2^64
    const size_t want = bytes.size() - got;
    size_t n = read ? read(at, std::span<uint8_t>(bytes.data() + got, want)) : 0;
    n = std::min(n, want);
    if (n == 0) break;
    got += n;
  }
  return static_cast<uint8_t>(got);
}

}  // namespace

TranslationUnit build_unit(const GuestCodeReader& read, uint64_t guest_rip) {
  TranslationUnit unit;
  unit.guest_rip = guest_rip;
  uint64_t rip = guest_rip;
  while (unit.insns.size() < kMaxUnitInstructions) {
    GuestInsn gi;
    gi.guest_rip = rip;
    gi.bytes_read = read_insn_bytes(read, rip, gi.bytes);
    gi.insn = decode_instruction(gi.bytes.data(), gi.bytes_read, rip);
    if (!gi.insn) {
      // Invalid encoding, or the instruction runs into unreadable memory: the engine
      // raises #UD or #PF precisely at this guest RIP when it gets there.
      unit.insns.push_back(gi);
      unit.end = UnitEnd::Undecodable;
      unit.guest_end = rip + std::max<uint8_t>(gi.bytes_read, 1);
      unit.next_guest_rip = rip;
      return unit;
    }
    gi.cls = classify(*gi.insn);
    rip = gi.next_rip();
    const bool ends = gi.cls.ends_unit;
    unit.insns.push_back(gi);
    if (ends) {
      unit.end = UnitEnd::EndsUnit;
      unit.guest_end = unit.next_guest_rip = rip;
      return unit;
    }
  }
  unit.end = UnitEnd::InstructionLimit;
  unit.guest_end = unit.next_guest_rip = rip;
  return unit;
}

const char* unit_end_name(UnitEnd e) {
  switch (e) {
    case UnitEnd::InstructionLimit: return "instruction limit";
    case UnitEnd::EndsUnit: return "control transfer or callout";
    case UnitEnd::Undecodable: return "undecodable";
  }
  return "?";
}

}  // namespace hvsim::bt
