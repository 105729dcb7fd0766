#pragma once
// Trap points: instructions before which the CPU substrate stops precisely, so that the VMM
// (or, for the native engine, the hardware model) decides what they do. Which kinds trap is a
// policy chosen by the engine; the mechanism is the same for all (docs/architecture.md).
#include <bitset>
#include <cstdint>
#include <optional>

#include "core/isa/decoder.hpp"

namespace hvsim {

#define HVSIM_TRAP_INSTRUCTIONS(X) \
  X(Rdtsc, "RDTSC")                \
  X(Rdtscp, "RDTSCP")              \
  X(Rdmsr, "RDMSR")                \
  X(Wrmsr, "WRMSR")                \
  X(In, "IN")                      \
  X(Out, "OUT")                    \
  X(Ins, "INS")                    \
  X(Outs, "OUTS")                  \
  X(Cpuid, "CPUID")                \
  X(Syscall, "SYSCALL")            \
  X(Sysenter, "SYSENTER")          \
  X(Hlt, "HLT")                    \
  X(IntN, "INT n")                 \
  X(Int3, "INT3")                  \
  X(Int1, "INT1")                  \
  X(MovToCr, "MOV to CR")          \
  X(MovFromCr, "MOV from CR")      \
  X(MovToCr8, "MOV to CR8")        \
  X(MovFromCr8, "MOV from CR8")    \
  X(MovDr, "MOV DR")               \
  X(Invlpg, "INVLPG")              \
  X(Rdpmc, "RDPMC")                \
  X(Pause, "PAUSE")                \
  X(Wbinvd, "WBINVD")              \
  X(Invd, "INVD")                  \
  X(Rdrand, "RDRAND")              \
  X(Rdseed, "RDSEED")              \
  X(Xsetbv, "XSETBV")              \
  X(Monitor, "MONITOR")            \
  X(Mwait, "MWAIT")                \
  X(DescriptorTable, "LGDT/LIDT/SGDT/SIDT") \
  X(SystemSegment, "LLDT/LTR/SLDT/STR") \
  X(Vmcall, "VMCALL")

enum class TrapKind : uint8_t {
#define HVSIM_TRAP_ENUM(name, text) name,
  HVSIM_TRAP_INSTRUCTIONS(HVSIM_TRAP_ENUM)
#undef HVSIM_TRAP_ENUM
      Count
};
constexpr size_t kTrapKindCount = static_cast<size_t>(TrapKind::Count);

const char* trap_kind_name(TrapKind k);

// The architectural class of an instruction for trapping purposes, or nullopt for an
// innocuous one. MOV CR8 is its own kind because it is the TPR, which Unicorn lacks.
std::optional<TrapKind> classify_trap(const Instruction& insn);

// A set of trap kinds: the engine's policy.
class TrapSet {
 public:
  TrapSet() = default;
  TrapSet(std::initializer_list<TrapKind> kinds) {
    for (auto k : kinds) add(k);
  }
  void add(TrapKind k) { bits_.set(static_cast<size_t>(k)); }
  void remove(TrapKind k) { bits_.reset(static_cast<size_t>(k)); }
  bool contains(TrapKind k) const { return bits_.test(static_cast<size_t>(k)); }
  bool operator==(const TrapSet&) const = default;

 private:
  std::bitset<kTrapKindCount> bits_;
};

}  // namespace hvsim
