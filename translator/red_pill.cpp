#include "translator/red_pill.hpp"

#include <cstring>

#include "core/cpu/fault_address.hpp"
#include "core/vm/vm.hpp"
#include "translator/vmm_layout.hpp"

namespace hvsim::bt {

bool reads_descriptor_register(const Instruction& insn) {
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_SIDT: case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR:
      return true;
    default:
      return false;
  }
}

void store_host_register(Vm& vm, const Instruction& insn) {
  UnicornCpu& cpu = vm.cpu();
  const ZydisDecodedOperand& dst = insn.operands[0];
  uint8_t bytes[10] = {};
  size_t size = 2;
  uint64_t selector = 0;
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_SIDT:
    case ZYDIS_MNEMONIC_SGDT: {  // 64-bit mode: a 2-byte limit, then an 8-byte base (SDM Vol. 2, SGDT)
      const bool idt = insn.mnemonic() == ZYDIS_MNEMONIC_SIDT;
      const uint16_t limit = idt ? host_registers::kIdtLimit : host_registers::kGdtLimit;
      const uint64_t base = idt ? host_registers::kIdtBase : host_registers::kGdtBase;
      std::memcpy(bytes, &limit, 2);
      std::memcpy(bytes + 2, &base, 8);
      size = 10;
      break;
    }
    default:
      selector = insn.mnemonic() == ZYDIS_MNEMONIC_SLDT ? host_registers::kLdtSelector : host_registers::kTrSelector;
      std::memcpy(bytes, &selector, 2);
      break;
  }
  if (dst.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    // SLDT/STR r16 writes 16 bits; r32 and r64 get the selector zero-extended.
    const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, dst.reg.value);
    const auto gpr = static_cast<Gpr>(full - ZYDIS_REGISTER_RAX);
    const uint64_t old = cpu.gpr(gpr);
    cpu.set_gpr(gpr, dst.size == 16 ? (old & ~0xffffull) | selector : selector);
  } else {
    const uint64_t va = memory_operand_address(cpu, insn, dst);
    if (auto fault = vm.linear().write(va, bytes, size, cpu.cpl())) {
      if (fault->vector == vec::PF) cpu.set_cr(2, fault->cr2);
      vm.raise_exception(fault->vector, fault->error_code);
      return;
    }
  }
  cpu.add_retired(1);
  cpu.set_rip(insn.next());
}

}  // namespace hvsim::bt
