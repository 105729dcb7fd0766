#pragma once
// The stores adaptive binary translation emulates: MOV m, r and MOV m, imm (a page-table
// entry written by the guest kernel). Anything else (a read-modify-write, a string store, a
// RIP-relative operand, a LOCK prefix) is left to the CPU.
#include <cstdint>
#include <optional>

#include "core/cpu/unicorn_cpu.hpp"
#include "core/isa/decoder.hpp"

namespace hvsim::bt {

struct SimpleStore {
  uint64_t va = 0;     // linear address written
  unsigned size = 0;   // 1, 2, 4 or 8 bytes
  uint64_t value = 0;  // the bytes written, little-endian, in the low `size` bytes
};

// Whether the instruction is a store the VMM can emulate, judged from its encoding alone.
bool is_simple_store(const Instruction& insn);
// The store the instruction would make now, from the vCPU's registers; nullopt if it is not
// a simple store.
std::optional<SimpleStore> simple_store(UnicornCpu& cpu, const Instruction& insn);

}  // namespace hvsim::bt
