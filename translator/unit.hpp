#pragma once
// Translation units: up to kMaxUnitInstructions guest instructions decoded from a guest
// virtual address, ended early by a control transfer or a callout that must end it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/isa/decoder.hpp"
#include "translator/classify.hpp"

namespace hvsim::bt {

// Adams & Agesen: "at most 12 instructions or up to a control-flow instruction".
constexpr size_t kMaxUnitInstructions = 12;
constexpr size_t kMaxInsnLength = 15;  // SDM Vol. 2, 2.3.11
// The most guest bytes one unit spans: a fragment starting this far below an address may cover it.
constexpr uint64_t kMaxUnitBytes = kMaxUnitInstructions * kMaxInsnLength;

// Copies guest bytes at a guest virtual address into `out` and returns how many it copied:
// out.size() when all are readable, fewer (possibly 0) where readable memory ends (an
// unmapped page, or fetch rights missing). Answers larger than out.size() are clamped.
using GuestCodeReader = std::function<size_t(uint64_t guest_va, std::span<uint8_t> out)>;

struct GuestInsn {
  uint64_t guest_rip = 0;
  std::optional<Instruction> insn;  // nullopt: undecodable or not fully readable
  Classification cls;               // meaningful when insn is set
  uint8_t bytes_read = 0;           // readable bytes at guest_rip (at most kMaxInsnLength)
  std::array<uint8_t, kMaxInsnLength> bytes{};  // the first bytes_read of them
  // Adaptive BT: the engine saw this store keep faulting on traced page tables; it becomes an
  // AdaptedStore callout (set by the engine between build_unit and emit_fragment).
  bool adapted = false;
  // IN or OUT with an immediate port no device claims (set by the engine, which knows the
  // bus): emulated in the cache, IN reading all ones, OUT writing nothing.
  bool open_bus_io = false;

  bool decoded() const { return insn.has_value(); }
  unsigned length() const { return insn ? insn->length() : 0; }
  uint64_t next_rip() const { return guest_rip + length(); }
};

enum class UnitEnd : uint8_t {
  InstructionLimit,  // kMaxUnitInstructions reached: falls through to next_guest_rip
  EndsUnit,          // the last instruction ends the unit (classify().ends_unit)
  Undecodable,       // the last entry could not be decoded or read
};

struct TranslationUnit {
  uint64_t guest_rip = 0;
  std::vector<GuestInsn> insns;  // 1..kMaxUnitInstructions entries
  UnitEnd end = UnitEnd::InstructionLimit;
  // One past the last guest byte the translation depends on (for an undecodable end, the
  // bytes examined, at least one): writes to [guest_rip, guest_end) must invalidate it.
  uint64_t guest_end = 0;
  // Where the guest continues when the last instruction falls through (InstructionLimit).
  uint64_t next_guest_rip = 0;
};

TranslationUnit build_unit(const GuestCodeReader& read, uint64_t guest_rip);

const char* unit_end_name(UnitEnd e);

}  // namespace hvsim::bt
