#pragma once
// Guest user code runs untranslated under bt, so SIDT, SGDT, SLDT and STR at CPL 3 (sensitive,
// not privileged: Robin & Irvine 2000) read the processor's registers, which hold the VMM's
// tables (vmm_layout.hpp, host_registers), not the guest's: the Red Pill (Rutkowska 2004).
#include "core/isa/decoder.hpp"

namespace hvsim {
class Vm;
namespace bt {

// Whether the instruction is one of the four stores of a descriptor-table register.
bool reads_descriptor_register(const Instruction& insn);
// Executes it as the processor would with the VMM's registers loaded: stores the VMM's value,
// retires it and moves RIP on (or delivers the guest's #PF or #GP for its memory operand).
void store_host_register(Vm& vm, const Instruction& insn);

}  // namespace bt
}  // namespace hvsim
