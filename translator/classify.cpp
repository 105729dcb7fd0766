#include "translator/classify.hpp"

namespace hvsim::bt {
namespace {

bool operand_is_immediate(const Instruction& insn) {
  return insn.info.operand_count_visible > 0 &&
         insn.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
}

BranchKind branch_kind(const Instruction& insn) {
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_JMP:
      return operand_is_immediate(insn) ? BranchKind::Jmp : BranchKind::IndirectJmp;
    case ZYDIS_MNEMONIC_CALL:
      return operand_is_immediate(insn) ? BranchKind::Call : BranchKind::IndirectCall;
    case ZYDIS_MNEMONIC_RET: return BranchKind::Return;
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE:
    case ZYDIS_MNEMONIC_JRCXZ:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_JCXZ: return BranchKind::Loop;
    case ZYDIS_MNEMONIC_JB:
    case ZYDIS_MNEMONIC_JBE:
    case ZYDIS_MNEMONIC_JL:
    case ZYDIS_MNEMONIC_JLE:
    case ZYDIS_MNEMONIC_JNB:
    case ZYDIS_MNEMONIC_JNBE:
    case ZYDIS_MNEMONIC_JNL:
    case ZYDIS_MNEMONIC_JNLE:
    case ZYDIS_MNEMONIC_JNO:
    case ZYDIS_MNEMONIC_JNP:
    case ZYDIS_MNEMONIC_JNS:
    case ZYDIS_MNEMONIC_JNZ:
    case ZYDIS_MNEMONIC_JO:
    case ZYDIS_MNEMONIC_JP:
    case ZYDIS_MNEMONIC_JS:
    case ZYDIS_MNEMONIC_JZ: return BranchKind::Jcc;
    default: return BranchKind::None;
  }
}

bool never_falls_through(const Instruction& insn) {
  const auto m = insn.mnemonic();
  return m == ZYDIS_MNEMONIC_UD0 || m == ZYDIS_MNEMONIC_UD1 || m == ZYDIS_MNEMONIC_UD2;
}

}  // namespace

bool has_rip_relative_operand(const Instruction& insn) {
  for (unsigned i = 0; i < insn.info.operand_count; ++i) {
    const auto& op = insn.operands[i];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (op.mem.base == ZYDIS_REGISTER_RIP || op.mem.base == ZYDIS_REGISTER_EIP)) {
      return true;
    }
  }
  return false;
}

Classification classify(const Instruction& insn) {
  Classification c;
  // Sensitive first: far branches and e.g. LGDT [rip+x] are sensitive before anything else.
  if (auto k = sensitive_kind(insn)) {
    c.cls = InsnClass::Sensitive;
    c.sensitive = *k;
    c.ends_unit = sensitive_ends_unit(*k);
    return c;
  }
  c.branch = branch_kind(insn);
  switch (c.branch) {
    case BranchKind::None: break;
    case BranchKind::Jmp:
    case BranchKind::Jcc:
    case BranchKind::Call:
    case BranchKind::Loop:
      c.cls = InsnClass::DirectBranch;
      c.ends_unit = true;
      return c;
    case BranchKind::IndirectJmp:
    case BranchKind::IndirectCall:
    case BranchKind::Return:
      c.cls = InsnClass::IndirectBranch;
      c.ends_unit = true;
      return c;
  }
  if (has_rip_relative_operand(insn)) {
    c.cls = InsnClass::RipRelative;
    return c;
  }
  c.ends_unit = never_falls_through(insn);
  return c;
}

const char* insn_class_name(InsnClass c) {
  switch (c) {
    case InsnClass::Innocuous: return "innocuous";
    case InsnClass::RipRelative: return "RIP-relative";
    case InsnClass::DirectBranch: return "direct branch";
    case InsnClass::IndirectBranch: return "indirect branch";
    case InsnClass::Sensitive: return "sensitive";
  }
  return "?";
}

}  // namespace hvsim::bt
