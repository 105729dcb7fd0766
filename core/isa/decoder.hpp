#pragma once
// Instruction decoding (Zydis 4) for the VMM: trap-point scanning, emulation of trapped
// instructions, fault-address reconstruction.
#include <Zydis/Zydis.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace hvsim {

struct Instruction {
  uint64_t address = 0;
  ZydisDecodedInstruction info{};
  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT]{};

  unsigned length() const { return info.length; }
  ZydisMnemonic mnemonic() const { return info.mnemonic; }
  uint64_t next() const { return address + info.length; }
  bool has_rep() const { return info.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE); }
  std::string text() const;  // Intel syntax, e.g. "mov cr8, rax"
};

// Decodes one 64-bit-mode instruction from `bytes`; nullopt when the bytes are not a valid
// instruction (or are truncated).
std::optional<Instruction> decode_instruction(const uint8_t* bytes, size_t size, uint64_t address);

}  // namespace hvsim
