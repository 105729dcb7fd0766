#pragma once
// The MMU's TLB-fill hook only learns the page of a refused access; CR2 must hold the exact
// linear address. It is reconstructed from the faulting instruction's memory operands.
#include <cstdint>

#include "core/cpu/cpu_types.hpp"
#include "core/cpu/unicorn_cpu.hpp"
#include "core/isa/decoder.hpp"

namespace hvsim {

uint64_t exact_fault_address(UnicornCpu& cpu, const Instruction* insn, uint64_t fault_page, Access access);

// Value of a Zydis register operand (general registers of any width, RIP).
uint64_t register_value(UnicornCpu& cpu, ZydisRegister reg, uint64_t next_rip);

// The linear address of a memory operand (base + index * scale + displacement, FS/GS base).
uint64_t memory_operand_address(UnicornCpu& cpu, const Instruction& insn, const ZydisDecodedOperand& op);

}  // namespace hvsim
