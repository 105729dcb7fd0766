#include "core/cpu/trap_points.hpp"

namespace hvsim {

const char* trap_kind_name(TrapKind k) {
  static constexpr const char* names[] = {
#define HVSIM_TRAP_NAME(name, text) text,
      HVSIM_TRAP_INSTRUCTIONS(HVSIM_TRAP_NAME)
#undef HVSIM_TRAP_NAME
  };
  auto i = static_cast<size_t>(k);
  return i < kTrapKindCount ? names[i] : "?";
}

namespace {
bool operand_is_cr8(const Instruction& insn) {
  for (unsigned i = 0; i < insn.info.operand_count_visible; ++i) {
    if (insn.operands[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        insn.operands[i].reg.value == ZYDIS_REGISTER_CR8) {
      return true;
    }
  }
  return false;
}
bool first_operand_is_control_register(const Instruction& insn) {
  const auto& op = insn.operands[0];
  return op.type == ZYDIS_OPERAND_TYPE_REGISTER && op.reg.value >= ZYDIS_REGISTER_CR0 &&
         op.reg.value <= ZYDIS_REGISTER_CR15;
}
}  // namespace

std::optional<TrapKind> classify_trap(const Instruction& insn) {
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_RDTSC: return TrapKind::Rdtsc;
    case ZYDIS_MNEMONIC_RDTSCP: return TrapKind::Rdtscp;
    case ZYDIS_MNEMONIC_RDMSR: return TrapKind::Rdmsr;
    case ZYDIS_MNEMONIC_WRMSR: return TrapKind::Wrmsr;
    case ZYDIS_MNEMONIC_IN: return TrapKind::In;
    case ZYDIS_MNEMONIC_OUT: return TrapKind::Out;
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD: return TrapKind::Ins;
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD: return TrapKind::Outs;
    case ZYDIS_MNEMONIC_CPUID: return TrapKind::Cpuid;
    case ZYDIS_MNEMONIC_SYSCALL: return TrapKind::Syscall;
    case ZYDIS_MNEMONIC_SYSENTER: return TrapKind::Sysenter;
    case ZYDIS_MNEMONIC_HLT: return TrapKind::Hlt;
    case ZYDIS_MNEMONIC_INT: return TrapKind::IntN;
    case ZYDIS_MNEMONIC_INT3: return TrapKind::Int3;
    case ZYDIS_MNEMONIC_INT1: return TrapKind::Int1;
    case ZYDIS_MNEMONIC_MOV:
      if (operand_is_cr8(insn)) {
        return first_operand_is_control_register(insn) ? TrapKind::MovToCr8 : TrapKind::MovFromCr8;
      }
      for (unsigned i = 0; i < insn.info.operand_count_visible; ++i) {
        const auto& op = insn.operands[i];
        if (op.type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
        if (op.reg.value >= ZYDIS_REGISTER_CR0 && op.reg.value <= ZYDIS_REGISTER_CR15) {
          return i == 0 ? TrapKind::MovToCr : TrapKind::MovFromCr;
        }
        if (op.reg.value >= ZYDIS_REGISTER_DR0 && op.reg.value <= ZYDIS_REGISTER_DR15) {
          return TrapKind::MovDr;
        }
      }
      return std::nullopt;
    case ZYDIS_MNEMONIC_INVLPG: return TrapKind::Invlpg;
    case ZYDIS_MNEMONIC_RDPMC: return TrapKind::Rdpmc;
    case ZYDIS_MNEMONIC_PAUSE: return TrapKind::Pause;
    case ZYDIS_MNEMONIC_WBINVD: return TrapKind::Wbinvd;
    case ZYDIS_MNEMONIC_INVD: return TrapKind::Invd;
    case ZYDIS_MNEMONIC_RDRAND: return TrapKind::Rdrand;
    case ZYDIS_MNEMONIC_RDSEED: return TrapKind::Rdseed;
    case ZYDIS_MNEMONIC_XSETBV: return TrapKind::Xsetbv;
    case ZYDIS_MNEMONIC_MONITOR: return TrapKind::Monitor;
    case ZYDIS_MNEMONIC_MWAIT: return TrapKind::Mwait;
    case ZYDIS_MNEMONIC_LGDT:
    case ZYDIS_MNEMONIC_LIDT:
    case ZYDIS_MNEMONIC_SGDT:
    case ZYDIS_MNEMONIC_SIDT: return TrapKind::DescriptorTable;
    case ZYDIS_MNEMONIC_LLDT:
    case ZYDIS_MNEMONIC_LTR:
    case ZYDIS_MNEMONIC_SLDT:
    case ZYDIS_MNEMONIC_STR: return TrapKind::SystemSegment;
    case ZYDIS_MNEMONIC_VMCALL: return TrapKind::Vmcall;
    default: return std::nullopt;
  }
}

}  // namespace hvsim
