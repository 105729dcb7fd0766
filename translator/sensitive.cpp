#include "translator/sensitive.hpp"

namespace hvsim::bt {
namespace {

struct Row {
  const char* name;
  const char* text;
  Handling handling;
  bool ends_unit;
  const char* reason;
};

constexpr Row kRows[] = {
#define HVSIM_SENSITIVE_ROW(name, text, handling, ends_unit, reason) \
  {#name, text, Handling::handling, ends_unit, reason},
    HVSIM_SENSITIVE_INSTRUCTIONS(HVSIM_SENSITIVE_ROW)
#undef HVSIM_SENSITIVE_ROW
};
static_assert(std::size(kRows) == kSensitiveKindCount);

const Row* row(SensitiveKind k) {
  auto i = static_cast<size_t>(k);
  return i < kSensitiveKindCount ? &kRows[i] : nullptr;
}

bool in_range(ZydisRegister r, ZydisRegister first, ZydisRegister last) {
  return r >= first && r <= last;
}
bool is_segment_register(ZydisRegister r) {
  return r == ZYDIS_REGISTER_ES || r == ZYDIS_REGISTER_CS || r == ZYDIS_REGISTER_SS ||
         r == ZYDIS_REGISTER_DS || r == ZYDIS_REGISTER_FS || r == ZYDIS_REGISTER_GS;
}
const ZydisDecodedOperand* visible_register(const Instruction& insn, unsigned i) {
  if (i >= insn.info.operand_count_visible) return nullptr;
  const auto& op = insn.operands[i];
  return op.type == ZYDIS_OPERAND_TYPE_REGISTER ? &op : nullptr;
}

// MOV is sensitive only with a control, debug or segment register operand.
std::optional<SensitiveKind> classify_mov(const Instruction& insn) {
  for (unsigned i = 0; i < 2; ++i) {
    const auto* op = visible_register(insn, i);
    if (!op) continue;
    const ZydisRegister r = op->reg.value;
    const bool to = i == 0;
    if (r == ZYDIS_REGISTER_CR8) return to ? SensitiveKind::MovToCr8 : SensitiveKind::MovFromCr8;
    if (in_range(r, ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR15)) {
      return to ? SensitiveKind::MovToCr : SensitiveKind::MovFromCr;
    }
    if (in_range(r, ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR15)) return SensitiveKind::MovDr;
    if (is_segment_register(r)) return SensitiveKind::MovSegment;
  }
  return std::nullopt;
}

std::optional<SensitiveKind> by_mnemonic(const Instruction& insn) {
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_CLI: return SensitiveKind::Cli;
    case ZYDIS_MNEMONIC_STI: return SensitiveKind::Sti;
    case ZYDIS_MNEMONIC_PUSHF:
    case ZYDIS_MNEMONIC_PUSHFD:
    case ZYDIS_MNEMONIC_PUSHFQ: return SensitiveKind::Pushf;
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_POPFQ: return SensitiveKind::Popf;
    case ZYDIS_MNEMONIC_MOV: return classify_mov(insn);
    case ZYDIS_MNEMONIC_LGDT:
    case ZYDIS_MNEMONIC_LIDT: return SensitiveKind::LoadDescriptorTable;
    case ZYDIS_MNEMONIC_SGDT:
    case ZYDIS_MNEMONIC_SIDT: return SensitiveKind::StoreDescriptorTable;
    case ZYDIS_MNEMONIC_LLDT:
    case ZYDIS_MNEMONIC_LTR: return SensitiveKind::LoadSystemSegment;
    case ZYDIS_MNEMONIC_SLDT:
    case ZYDIS_MNEMONIC_STR: return SensitiveKind::StoreSystemSegment;
    case ZYDIS_MNEMONIC_SMSW: return SensitiveKind::Smsw;
    case ZYDIS_MNEMONIC_LMSW: return SensitiveKind::Lmsw;
    case ZYDIS_MNEMONIC_CLTS: return SensitiveKind::Clts;
    case ZYDIS_MNEMONIC_LAR:
    case ZYDIS_MNEMONIC_LSL:
    case ZYDIS_MNEMONIC_VERR:
    case ZYDIS_MNEMONIC_VERW: return SensitiveKind::SegmentCheck;
    case ZYDIS_MNEMONIC_PUSH: {
      const auto* op = visible_register(insn, 0);
      if (op && is_segment_register(op->reg.value)) return SensitiveKind::PushSegment;
      return std::nullopt;
    }
    case ZYDIS_MNEMONIC_POP: {
      const auto* op = visible_register(insn, 0);
      if (op && is_segment_register(op->reg.value)) return SensitiveKind::PopSegment;
      return std::nullopt;
    }
    case ZYDIS_MNEMONIC_LSS:
    case ZYDIS_MNEMONIC_LFS:
    case ZYDIS_MNEMONIC_LGS: return SensitiveKind::LoadFarPointer;
    case ZYDIS_MNEMONIC_INT: return SensitiveKind::IntN;
    case ZYDIS_MNEMONIC_INTO: return SensitiveKind::IntN;  // #UD in 64-bit mode; Zydis rejects it
    case ZYDIS_MNEMONIC_INT3: return SensitiveKind::Int3;
    case ZYDIS_MNEMONIC_INT1: return SensitiveKind::Int1;
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ: return SensitiveKind::Iret;
    case ZYDIS_MNEMONIC_SYSRET: return SensitiveKind::Sysret;
    case ZYDIS_MNEMONIC_SYSCALL: return SensitiveKind::Syscall;
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT: return SensitiveKind::Sysenter;
    case ZYDIS_MNEMONIC_SWAPGS: return SensitiveKind::Swapgs;
    case ZYDIS_MNEMONIC_RDMSR: return SensitiveKind::Rdmsr;
    case ZYDIS_MNEMONIC_WRMSR: return SensitiveKind::Wrmsr;
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT: return SensitiveKind::PortIo;
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD: return SensitiveKind::StringIo;
    case ZYDIS_MNEMONIC_HLT: return SensitiveKind::Hlt;
    case ZYDIS_MNEMONIC_INVLPG:
    case ZYDIS_MNEMONIC_INVPCID: return SensitiveKind::Invlpg;
    case ZYDIS_MNEMONIC_CPUID: return SensitiveKind::Cpuid;
    case ZYDIS_MNEMONIC_RDTSC: return SensitiveKind::Rdtsc;
    case ZYDIS_MNEMONIC_RDTSCP: return SensitiveKind::Rdtscp;
    case ZYDIS_MNEMONIC_RDPID: return SensitiveKind::Rdpid;
    case ZYDIS_MNEMONIC_RDPMC: return SensitiveKind::Rdpmc;
    case ZYDIS_MNEMONIC_WBINVD:  // also WBNOINVD (F3 0F 09), which Zydis 4.0 decodes as WBINVD
    case ZYDIS_MNEMONIC_INVD: return SensitiveKind::CacheControl;
    case ZYDIS_MNEMONIC_RDRAND:
    case ZYDIS_MNEMONIC_RDSEED: return SensitiveKind::Random;
    case ZYDIS_MNEMONIC_PAUSE: return SensitiveKind::Pause;
    case ZYDIS_MNEMONIC_XSETBV: return SensitiveKind::Xsetbv;
    case ZYDIS_MNEMONIC_XGETBV: return SensitiveKind::Xgetbv;
    case ZYDIS_MNEMONIC_MONITOR:
    case ZYDIS_MNEMONIC_MWAIT:
    case ZYDIS_MNEMONIC_MONITORX:
    case ZYDIS_MNEMONIC_MWAITX:
    case ZYDIS_MNEMONIC_UMONITOR:
    case ZYDIS_MNEMONIC_UMWAIT:
    case ZYDIS_MNEMONIC_TPAUSE: return SensitiveKind::MonitorMwait;
    case ZYDIS_MNEMONIC_VMCALL:
    case ZYDIS_MNEMONIC_VMMCALL: return SensitiveKind::Vmcall;
    case ZYDIS_MNEMONIC_RDFSBASE:
    case ZYDIS_MNEMONIC_RDGSBASE:
    case ZYDIS_MNEMONIC_WRFSBASE:
    case ZYDIS_MNEMONIC_WRGSBASE: return SensitiveKind::FsGsBase;
    case ZYDIS_MNEMONIC_RDPKRU:
    case ZYDIS_MNEMONIC_WRPKRU: return SensitiveKind::Pkru;
    case ZYDIS_MNEMONIC_CLAC:
    case ZYDIS_MNEMONIC_STAC: return SensitiveKind::Smap;
    // VMX, SVM, SMX and SMM: Zydis marks only some of them privileged (not VMFUNC, GETSEC,
    // RSM or the SVM instructions), so they are listed by name.
    case ZYDIS_MNEMONIC_VMXON:
    case ZYDIS_MNEMONIC_VMXOFF:
    case ZYDIS_MNEMONIC_VMLAUNCH:
    case ZYDIS_MNEMONIC_VMRESUME:
    case ZYDIS_MNEMONIC_VMPTRLD:
    case ZYDIS_MNEMONIC_VMPTRST:
    case ZYDIS_MNEMONIC_VMCLEAR:
    case ZYDIS_MNEMONIC_VMREAD:
    case ZYDIS_MNEMONIC_VMWRITE:
    case ZYDIS_MNEMONIC_INVEPT:
    case ZYDIS_MNEMONIC_INVVPID:
    case ZYDIS_MNEMONIC_VMFUNC:
    case ZYDIS_MNEMONIC_VMRUN:
    case ZYDIS_MNEMONIC_VMLOAD:
    case ZYDIS_MNEMONIC_VMSAVE:
    case ZYDIS_MNEMONIC_CLGI:
    case ZYDIS_MNEMONIC_STGI:
    case ZYDIS_MNEMONIC_SKINIT:
    case ZYDIS_MNEMONIC_INVLPGA:
    case ZYDIS_MNEMONIC_GETSEC:
    case ZYDIS_MNEMONIC_RSM: return SensitiveKind::Virtualization;
    case ZYDIS_MNEMONIC_XBEGIN: return SensitiveKind::OtherRelative;
    default: return std::nullopt;
  }
}

}  // namespace

const char* sensitive_name(SensitiveKind k) { return row(k) ? row(k)->name : "?"; }
const char* sensitive_text(SensitiveKind k) { return row(k) ? row(k)->text : "?"; }
const char* sensitive_reason(SensitiveKind k) { return row(k) ? row(k)->reason : "?"; }
Handling sensitive_handling(SensitiveKind k) { return row(k) ? row(k)->handling : Handling::Callout; }
bool sensitive_ends_unit(SensitiveKind k) { return row(k) ? row(k)->ends_unit : true; }

std::optional<SensitiveKind> sensitive_kind(const Instruction& insn) {
  // Far CALL/JMP/RET share their mnemonics with the near forms.
  if (insn.info.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return SensitiveKind::FarTransfer;
  if (auto k = by_mnemonic(insn)) return k;
  // The catch-all: whatever else the decoder knows to need CPL 0 (XSAVES, XRSTORS, ...).
  if (insn.info.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) return SensitiveKind::OtherPrivileged;
  return std::nullopt;
}

}  // namespace hvsim::bt
