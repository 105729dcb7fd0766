#include "translator/store_emulation.hpp"

#include "core/cpu/fault_address.hpp"

namespace hvsim::bt {

bool is_simple_store(const Instruction& insn) {
  if (insn.mnemonic() != ZYDIS_MNEMONIC_MOV || insn.info.operand_count_visible != 2) return false;
  if (insn.info.attributes & ZYDIS_ATTRIB_HAS_LOCK) return false;
  const ZydisDecodedOperand& dst = insn.operands[0];
  const ZydisDecodedOperand& src = insn.operands[1];
  if (dst.type != ZYDIS_OPERAND_TYPE_MEMORY || dst.mem.type != ZYDIS_MEMOP_TYPE_MEM) return false;
  if (dst.mem.base == ZYDIS_REGISTER_RIP || dst.mem.base == ZYDIS_REGISTER_EIP) return false;
  if (dst.size != 8 && dst.size != 16 && dst.size != 32 && dst.size != 64) return false;
  if (src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return true;
  if (src.type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  const ZydisRegisterClass c = ZydisRegisterGetClass(src.reg.value);
  return c == ZYDIS_REGCLASS_GPR8 || c == ZYDIS_REGCLASS_GPR16 || c == ZYDIS_REGCLASS_GPR32 ||
         c == ZYDIS_REGCLASS_GPR64;
}

std::optional<SimpleStore> simple_store(UnicornCpu& cpu, const Instruction& insn) {
  if (!is_simple_store(insn)) return std::nullopt;
  const ZydisDecodedOperand& dst = insn.operands[0];
  const ZydisDecodedOperand& src = insn.operands[1];
  SimpleStore s;
  s.size = dst.size / 8u;
  s.va = memory_operand_address(cpu, insn, dst);
  // An immediate is sign-extended to the operand size by the decoder (MOV r/m64, imm32).
  s.value = src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? src.imm.value.u : register_value(cpu, src.reg.value, insn.next());
  if (s.size < 8) s.value &= (1ull << (8 * s.size)) - 1;
  return s;
}

}  // namespace hvsim::bt
