#pragma once
// A fragment: the translation of one unit, placed at a TC address. Besides its bytes (in the
// caller's buffer) it carries what the engine needs to run it: the callout table, the exit
// stubs to chain, and the map from every TC byte back to guest state for precise faults.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "translator/sensitive.hpp"

namespace hvsim::bt {

// The callout instruction: the CPU substrate stops before every HLT in the cache.
constexpr uint8_t kCalloutOpcode = 0xf4;
// Padding after a stub's HLT, never executed (the CPU stops before the HLT); INT3 so that a
// bug that runs past it traps instead of sliding into the next stub.
constexpr uint8_t kStubPadding = 0xcc;
// An exit stub is as long as the `jmp rel32` that chaining writes over it.
constexpr size_t kExitStubSize = 5;

// clang-format off
#define HVSIM_CALLOUT_KINDS(X)                                                                         \
  X(Sensitive, "emulate a sensitive instruction in the VMM")                                          \
  X(ExitToGuest, "leave for a direct-branch target: translate it, then chain this stub")             \
  X(IndirectJump, "jmp r/m: evaluate the target, then look up its fragment")                         \
  X(IndirectCall, "call r/m: evaluate the target, push the guest return address, look up the target") \
  X(Return, "ret [imm16]: pop the guest return address (and imm16 bytes), look up its fragment")     \
  X(RipRelativeOutOfReach, "emulate: the RIP-relative operand is beyond rel32 reach of the fragment") \
  X(AdaptedStore, "emulate a store that kept faulting on a traced page table, without the fault (adaptive BT)") \
  X(Undecodable, "raise #UD (invalid encoding) or #PF (unreadable bytes) at this guest RIP")
// clang-format on

enum class CalloutKind : uint8_t {
#define HVSIM_CALLOUT_ENUM(name, text) name,
  HVSIM_CALLOUT_KINDS(HVSIM_CALLOUT_ENUM)
#undef HVSIM_CALLOUT_ENUM
      Count
};
constexpr size_t kCalloutKindCount = static_cast<size_t>(CalloutKind::Count);
const char* callout_kind_name(CalloutKind k);
const char* callout_kind_text(CalloutKind k);

// How one guest instruction was translated (for explain, counters and the GUI).
// clang-format off
#define HVSIM_REWRITES(X)                                                                          \
  X(Ident, "IDENT: copied unchanged")                                                               \
  X(RipRelative, "copied with its RIP-relative displacement re-encoded for the fragment's address") \
  X(InCache, "emulated inside the translation cache")                                               \
  X(Callout, "callout to the VMM")                                                                  \
  X(Jump, "jmp: an exit stub to the target")                                                        \
  X(CondJump, "jcc: jcc rel32 to the taken stub, then the fall-through stub")                       \
  X(Loop, "loop/jrcxz: rel8 to the taken stub, then the fall-through stub")                         \
  X(Call, "call: push the guest return address, then an exit stub to the target")              \
  X(Lookup, "indirect jmp/call or ret: target looked up in the cache's tables (hash table, return-address cache); a callout on a miss")
// clang-format on

enum class Rewrite : uint8_t {
#define HVSIM_REWRITE_ENUM(name, text) name,
  HVSIM_REWRITES(HVSIM_REWRITE_ENUM)
#undef HVSIM_REWRITE_ENUM
      Count
};
const char* rewrite_name(Rewrite r);
const char* rewrite_text(Rewrite r);

struct Callout {
  uint64_t tc_address = 0;  // of the HLT
  // The guest state at the HLT is "about to execute the instruction at guest_rip" (for
  // ExitToGuest: the branch is done and the guest is at its target).
  uint64_t guest_rip = 0;
  CalloutKind kind = CalloutKind::Sensitive;
  SensitiveKind sensitive = SensitiveKind::Count;  // when kind == Sensitive
  uint8_t guest_length = 0;                        // 0 for ExitToGuest and Undecodable
  // Where the guest continues after the emulation falls through (the return address that
  // IndirectCall pushes; the target for ExitToGuest).
  uint64_t next_guest_rip = 0;
  // The TC address of next_guest_rip's translation in this fragment, 0 when there is none
  // (the callout ends the unit): the engine may resume there without a lookup.
  uint64_t resume_tc = 0;
};

enum class StubRole : uint8_t {
  Jump,         // jmp rel
  Call,         // call rel (after the return-address push)
  Taken,        // jcc / loop taken
  FallThrough,  // jcc / loop not taken
  Limit,        // the unit reached its instruction limit
  ReturnPoint,  // a call's return address: reached only through the return-address cache
};
const char* stub_role_name(StubRole r);

struct ExitStub {
  uint64_t tc_address = 0;
  uint64_t guest_target = 0;
  uint64_t from_guest_rip = 0;  // the branch (or, for Limit, the last instruction)
  StubRole role = StubRole::Jump;
  uint32_t callout_index = 0;  // its entry in Fragment::callouts
};

// One contiguous TC byte range and the guest state a stop inside it corresponds to.
struct FaultRange {
  enum class Kind : uint8_t {
    Ident,      // copied guest instruction: a fault is the guest instruction's fault
    Rewritten,  // emitted code standing for a guest instruction (re-encoded, in-cache, push)
    Callout,    // a callout HLT
    ExitStub,   // the guest is at the stub's target
  };
  uint64_t tc_begin = 0;
  uint32_t length = 0;
  uint64_t guest_rip = 0;  // report faults here; the guest state is "before this instruction"
  Kind kind = Kind::Ident;
  // Bytes to add to RSP before reporting a stop here: the rewrite moved RSP already (the
  // long form of the call push, the in-cache return).
  int32_t undo_rsp = 0;
  // Guest registers the rewrite works in, saved in the VMM data area: put back before
  // reporting a stop here (the indirect-branch lookup).
  enum : uint8_t { kRestoreRax = 1, kRestoreRcx = 2 };
  uint8_t restore = 0;

  bool ident() const { return kind == Kind::Ident; }
  bool contains(uint64_t tc) const { return tc >= tc_begin && tc - tc_begin < length; }
};

// Where one guest instruction went.
struct InsnTranslation {
  uint64_t guest_rip = 0;
  uint64_t tc_begin = 0;
  uint32_t tc_length = 0;  // including its exit stubs
  Rewrite rewrite = Rewrite::Ident;
};

struct Fragment {
  uint64_t tc_address = 0;  // entry point
  uint32_t size = 0;        // bytes written to the caller's buffer
  uint64_t guest_rip = 0;
  std::vector<Callout> callouts;
  std::vector<ExitStub> stubs;
  std::vector<FaultRange> fault_map;  // ascending, contiguous, covering [tc_address, +size)
  std::vector<InsnTranslation> insns;
  // TC addresses of instructions that are the VMM's, not a guest instruction's (the in-cache
  // lookup's): they do not retire. Callouts and stubs are the VMM's too (not listed).
  std::vector<uint64_t> uncounted;

  const Callout* callout_at(uint64_t tc) const;
  const FaultRange* fault_range_at(uint64_t tc) const;
};

}  // namespace hvsim::bt
