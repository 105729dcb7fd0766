#pragma once
// What the translator must do with one guest instruction.
#include <cstdint>

#include "core/isa/decoder.hpp"
#include "translator/sensitive.hpp"

namespace hvsim::bt {

enum class InsnClass : uint8_t {
  Innocuous,       // copied IDENT
  RipRelative,     // copied with its RIP-relative displacement re-encoded
  DirectBranch,    // jmp/jcc/call rel, loop/jrcxz: rewritten to exit stubs
  IndirectBranch,  // jmp/call r/m, ret: a callout that looks the target up
  Sensitive,       // see sensitive.hpp: in-cache emulation or a callout
};

enum class BranchKind : uint8_t {
  None,
  Jmp,           // jmp rel8/rel32
  Jcc,           // jcc rel8/rel32
  Call,          // call rel32
  Loop,          // loop/loope/loopne/jrcxz/jecxz: rel8 only, and they read RCX
  IndirectJmp,   // jmp r/m64
  IndirectCall,  // call r/m64
  Return,        // ret, ret imm16
};

struct Classification {
  InsnClass cls = InsnClass::Innocuous;
  BranchKind branch = BranchKind::None;
  SensitiveKind sensitive = SensitiveKind::Count;  // when cls == Sensitive
  // The unit ends after this instruction: a control transfer, a callout after which the
  // VMM must regain control, or an instruction that never falls through (UD2).
  bool ends_unit = false;
};

Classification classify(const Instruction& insn);

// The instruction has a memory operand addressed relative to RIP (or EIP with 0x67).
bool has_rip_relative_operand(const Instruction& insn);

const char* insn_class_name(InsnClass c);

}  // namespace hvsim::bt
