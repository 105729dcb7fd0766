#include "core/cpu/fault_address.hpp"

#include <vector>

namespace hvsim {

uint64_t register_value(UnicornCpu& cpu, ZydisRegister reg, uint64_t next_rip) {
  if (reg == ZYDIS_REGISTER_NONE) return 0;
  if (reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP) return next_rip;
  ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (full < ZYDIS_REGISTER_RAX || full > ZYDIS_REGISTER_R15) return 0;
  uint64_t v = cpu.gpr(static_cast<Gpr>(full - ZYDIS_REGISTER_RAX));
  switch (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
    case 8:
      // AH, CH, DH, BH are bits 15:8.
      if (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH) return (v >> 8) & 0xff;
      return v & 0xff;
    case 16: return v & 0xffff;
    case 32: return v & 0xffffffff;
    default: return v;
  }
}

namespace {
struct Candidate {
  uint64_t address;
  uint64_t size;
};

void add_stack_candidates(const Instruction& insn, UnicornCpu& cpu, std::vector<Candidate>& out) {
  uint64_t rsp = cpu.gpr(Gpr::Rsp);
  unsigned width = insn.info.operand_width ? insn.info.operand_width / 8 : 8;
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_PUSH:
    case ZYDIS_MNEMONIC_PUSHFQ:
    case ZYDIS_MNEMONIC_PUSHF: out.push_back({rsp - width, width}); break;
    case ZYDIS_MNEMONIC_CALL: out.push_back({rsp - 8, 8}); break;
    case ZYDIS_MNEMONIC_POP:
    case ZYDIS_MNEMONIC_POPFQ:
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_RET: out.push_back({rsp, width}); break;
    case ZYDIS_MNEMONIC_IRETQ: out.push_back({rsp, 40}); break;
    case ZYDIS_MNEMONIC_LEAVE: out.push_back({cpu.gpr(Gpr::Rbp), 8}); break;
    default: break;
  }
}
}  // namespace

uint64_t memory_operand_address(UnicornCpu& cpu, const Instruction& insn, const ZydisDecodedOperand& op) {
  uint64_t ea = register_value(cpu, op.mem.base, insn.next()) +
                register_value(cpu, op.mem.index, insn.next()) * (op.mem.scale ? op.mem.scale : 1) +
                static_cast<uint64_t>(op.mem.disp.value);
  if (insn.info.address_width == 32) ea &= 0xffffffff;
  if (op.mem.segment == ZYDIS_REGISTER_FS) ea += cpu.segment(Seg::Fs).base;
  if (op.mem.segment == ZYDIS_REGISTER_GS) ea += cpu.segment(Seg::Gs).base;
  return ea;
}

uint64_t exact_fault_address(UnicornCpu& cpu, const Instruction* insn, uint64_t fault_page, Access access) {
  if (access == Access::Fetch || !insn) {
    uint64_t rip = cpu.rip();
    return (rip & ~0xfffull) == fault_page ? rip : fault_page;
  }
  std::vector<Candidate> cands;
  add_stack_candidates(*insn, cpu, cands);
  for (unsigned i = 0; i < insn->info.operand_count; ++i) {
    const auto& op = insn->operands[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.type != ZYDIS_MEMOP_TYPE_MEM) continue;
    if (op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && op.mem.base == ZYDIS_REGISTER_RSP) continue;
    cands.push_back({memory_operand_address(cpu, *insn, op), op.size ? op.size / 8u : 1u});
  }
  for (const auto& c : cands) {
    if ((c.address & ~0xfffull) == fault_page) return c.address;
  }
  for (const auto& c : cands) {
    if (((c.address + c.size - 1) & ~0xfffull) == fault_page) return fault_page;
  }
  return fault_page;
}

}  // namespace hvsim
