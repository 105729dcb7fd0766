#include "translator/emit.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "translator/vmm_layout.hpp"

namespace hvsim::bt {
namespace {

bool fits_rel32(int64_t d) { return d >= INT32_MIN && d <= INT32_MAX; }

// Appends bytes to the caller's buffer; remembers an overflow instead of writing past it.
class Sink {
 public:
  Sink(std::span<uint8_t> out, uint64_t tc) : out_(out), tc_(tc) {}
  uint64_t here() const { return tc_ + pos_; }
  size_t pos() const { return pos_; }
  bool overflowed() const { return overflow_; }
  uint8_t* reserve(size_t n) {
    if (overflow_ || n > out_.size() - pos_) {
      overflow_ = true;
      needed_ = pos_ + n;
      return nullptr;
    }
    uint8_t* p = out_.data() + pos_;
    pos_ += n;
    return p;
  }
  void put(std::initializer_list<uint8_t> bytes) { put(bytes.begin(), bytes.size()); }
  void put(const uint8_t* bytes, size_t n) {
    if (uint8_t* p = reserve(n)) std::memcpy(p, bytes, n);
  }
  void put32(uint32_t v) {
    const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    put(b, 4);
  }
  size_t needed() const { return needed_; }

 private:
  std::span<uint8_t> out_;
  uint64_t tc_;
  size_t pos_ = 0;
  size_t needed_ = 0;
  bool overflow_ = false;
};

class Emitter {
 public:
  Emitter(const TranslationUnit& unit, uint64_t tc, std::span<uint8_t> out)
      : unit_(unit), sink_(out, tc) {
    frag_.tc_address = tc;
    frag_.guest_rip = unit.guest_rip;
  }

  Result<Fragment> run() {
    for (size_t i = 0; i < unit_.insns.size(); ++i) {
      const GuestInsn& gi = unit_.insns[i];
      const size_t begin = sink_.pos();
      const Rewrite r = translate(gi);
      frag_.insns.push_back({gi.guest_rip, frag_.tc_address + begin,
                             static_cast<uint32_t>(sink_.pos() - begin), r});
    }
    if (unit_.end == UnitEnd::InstructionLimit) {
      // The unit stops in straight-line code: continue at the next guest instruction.
      const GuestInsn& last = unit_.insns.back();
      stub(unit_.next_guest_rip, last.guest_rip, StubRole::Limit);
    }
    if (sink_.overflowed()) {
      return make_error("fragment for guest rip 0x" + hex(unit_.guest_rip) + " needs " +
                        std::to_string(sink_.needed()) + "+ bytes; the buffer holds fewer");
    }
    frag_.size = static_cast<uint32_t>(sink_.pos());
    return std::move(frag_);
  }

 private:
  static std::string hex(uint64_t v) {
    char b[17];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }

  void range(uint64_t begin, FaultRange::Kind kind, uint64_t guest_rip, uint8_t undo_rsp = 0) {
    const uint64_t end = sink_.here();
    if (end == begin) return;
    frag_.fault_map.push_back({begin, static_cast<uint32_t>(end - begin), guest_rip, kind, undo_rsp});
  }

  // A callout HLT. resume: whether the guest continues in this fragment after it.
  void callout(const GuestInsn& gi, CalloutKind kind, SensitiveKind sk, bool resume) {
    const uint64_t at = sink_.here();
    sink_.put({kCalloutOpcode});
    range(at, FaultRange::Kind::Callout, gi.guest_rip);
    Callout c;
    c.tc_address = at;
    c.guest_rip = gi.guest_rip;
    c.kind = kind;
    c.sensitive = sk;
    c.guest_length = static_cast<uint8_t>(gi.length());
    c.next_guest_rip = gi.next_rip();
    c.resume_tc = resume ? sink_.here() : 0;
    frag_.callouts.push_back(c);
  }

  void stub(uint64_t target, uint64_t from, StubRole role) {
    const uint64_t at = sink_.here();
    sink_.put({kCalloutOpcode, kStubPadding, kStubPadding, kStubPadding, kStubPadding});
    range(at, FaultRange::Kind::ExitStub, target);
    Callout c;
    c.tc_address = at;
    c.guest_rip = target;
    c.kind = CalloutKind::ExitToGuest;
    c.next_guest_rip = target;
    frag_.callouts.push_back(c);
    frag_.stubs.push_back({at, target, from, role, static_cast<uint32_t>(frag_.callouts.size() - 1)});
  }

  void copy(const GuestInsn& gi) { sink_.put(gi.bytes.data(), gi.length()); }

  Rewrite translate(const GuestInsn& gi) {
    if (!gi.decoded()) {
      callout(gi, CalloutKind::Undecodable, SensitiveKind::Count, false);
      return Rewrite::Callout;
    }
    const Classification& c = gi.cls;
    if (gi.adapted && c.cls == InsnClass::Innocuous) {
      callout(gi, CalloutKind::AdaptedStore, SensitiveKind::Count, !c.ends_unit);
      return Rewrite::Callout;
    }
    switch (c.cls) {
      case InsnClass::Innocuous: {
        const uint64_t at = sink_.here();
        copy(gi);
        range(at, FaultRange::Kind::Ident, gi.guest_rip);
        return Rewrite::Ident;
      }
      case InsnClass::RipRelative: return rip_relative(gi);
      case InsnClass::Sensitive: return sensitive(gi);
      case InsnClass::DirectBranch: return direct_branch(gi);
      case InsnClass::IndirectBranch: {
        const CalloutKind k = c.branch == BranchKind::IndirectCall ? CalloutKind::IndirectCall
                              : c.branch == BranchKind::Return     ? CalloutKind::Return
                                                                   : CalloutKind::IndirectJump;
        callout(gi, k, SensitiveKind::Count, false);
        return Rewrite::Callout;
      }
    }
    return Rewrite::Ident;
  }

  // The instruction keeps its bytes and length; only disp32 changes so that the fragment's
  // RIP (or EIP, with an 0x67 prefix) plus the new displacement is the same guest address.
  Rewrite rip_relative(const GuestInsn& gi) {
    const Instruction& insn = *gi.insn;
    const unsigned len = insn.length();
    const auto& disp = insn.info.raw.disp;
    uint64_t absolute = 0;
    bool found = false;
    for (unsigned i = 0; i < insn.info.operand_count && !found; ++i) {
      const auto& op = insn.operands[i];
      if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
      if (op.mem.base != ZYDIS_REGISTER_RIP && op.mem.base != ZYDIS_REGISTER_EIP) continue;
      found = ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, gi.guest_rip, &absolute));
    }
    const uint64_t tc_next = sink_.here() + len;
    const int64_t d = static_cast<int64_t>(absolute - tc_next);
    const bool eip = insn.info.address_width == 32;
    if (!found || disp.size != 32 || disp.offset + 4u > len || (!eip && !fits_rel32(d))) {
      callout(gi, CalloutKind::RipRelativeOutOfReach, SensitiveKind::Count, !gi.cls.ends_unit);
      return Rewrite::Callout;
    }
    const uint64_t at = sink_.here();
    if (uint8_t* p = sink_.reserve(len)) {
      std::memcpy(p, gi.bytes.data(), len);
      const uint32_t v = static_cast<uint32_t>(d);  // EIP-relative: modulo 2^32, always fits
      const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
      std::memcpy(p + disp.offset, b, 4);
    }
    range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
    return Rewrite::RipRelative;
  }

  Rewrite sensitive(const GuestInsn& gi) {
    const SensitiveKind k = gi.cls.sensitive;
    if (sensitive_handling(k) == Handling::InCache) {
      const uint64_t at = sink_.here();
      if (k == SensitiveKind::Cli) {
        // mov byte [rip + disp32], 0: C6 /0 with ModRM 05 (RIP-relative); no flags touched.
        const int64_t d = static_cast<int64_t>(kVirtualIfAddress - (at + 7));
        sink_.put({0xc6, 0x05});
        sink_.put32(static_cast<uint32_t>(d));
        sink_.put({0x00});
      } else {  // Pause: a hint with nothing to virtualize, copied
        sink_.put({0xf3, 0x90});
      }
      range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
      return Rewrite::InCache;
    }
    callout(gi, CalloutKind::Sensitive, k, !gi.cls.ends_unit);
    return Rewrite::Callout;
  }

  uint64_t branch_target(const GuestInsn& gi) const {
    const Instruction& insn = *gi.insn;
    uint64_t target = 0;
    ZydisCalcAbsoluteAddress(&insn.info, &insn.operands[0], gi.guest_rip, &target);
    return target;
  }

  Rewrite direct_branch(const GuestInsn& gi) {
    const Instruction& insn = *gi.insn;
    const uint64_t target = branch_target(gi);
    const uint64_t at = sink_.here();
    switch (gi.cls.branch) {
      case BranchKind::Jmp:
        stub(target, gi.guest_rip, StubRole::Jump);
        return Rewrite::Jump;
      case BranchKind::Call:
        push_return_address(gi);
        stub(target, gi.guest_rip, StubRole::Call);
        return Rewrite::Call;
      case BranchKind::Jcc: {
        // jcc rel32 over the fall-through stub to the taken stub (0F 80+cc).
        sink_.put({0x0f, static_cast<uint8_t>(0x80 | (insn.info.opcode & 0x0f))});
        sink_.put32(kExitStubSize);
        range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
        stub(gi.next_rip(), gi.guest_rip, StubRole::FallThrough);
        stub(target, gi.guest_rip, StubRole::Taken);
        return Rewrite::CondJump;
      }
      case BranchKind::Loop: {
        // LOOPcc/JrCXZ have only rel8 (the last byte): keep prefixes and opcode, so RCX or
        // ECX is counted and tested as in the guest, and jump over the fall-through stub.
        const unsigned len = insn.length();
        sink_.put(gi.bytes.data(), len - 1);
        sink_.put({static_cast<uint8_t>(kExitStubSize)});
        range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
        stub(gi.next_rip(), gi.guest_rip, StubRole::FallThrough);
        stub(target, gi.guest_rip, StubRole::Taken);
        return Rewrite::Loop;
      }
      default: break;
    }
    callout(gi, CalloutKind::Undecodable, SensitiveKind::Count, false);  // not reached
    return Rewrite::Callout;
  }

  // CALL pushes the guest's return address, never a TC address: the guest kernel reads its
  // own stack (backtraces, exception fix-ups). Neither form touches RFLAGS.
  void push_return_address(const GuestInsn& gi) {
    const uint64_t ret = gi.next_rip();
    const uint64_t at = sink_.here();
    if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(ret))) == ret) {
      // push imm32 sign-extends to 64 bits: exact for a kernel in the top 2 GiB and for
      // code below 2 GiB. A fault leaves RSP unchanged, like the guest's CALL.
      sink_.put({0x68});
      sink_.put32(static_cast<uint32_t>(ret));
      range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
      return;
    }
    // lea rsp, [rsp-8]; mov dword [rsp], low32; mov dword [rsp+4], high32.
    sink_.put({0x48, 0x8d, 0x64, 0x24, 0xf8});
    range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
    const uint64_t mov_low = sink_.here();
    sink_.put({0xc7, 0x04, 0x24});
    sink_.put32(static_cast<uint32_t>(ret));
    // A fault in either store must report the CALL with RSP as it was before the lea.
    range(mov_low, FaultRange::Kind::Rewritten, gi.guest_rip, 8);
    const uint64_t mov_high = sink_.here();
    sink_.put({0xc7, 0x44, 0x24, 0x04});
    sink_.put32(static_cast<uint32_t>(ret >> 32));
    range(mov_high, FaultRange::Kind::Rewritten, gi.guest_rip, 8);
  }

  const TranslationUnit& unit_;
  Sink sink_;
  Fragment frag_;
};

}  // namespace

Result<Fragment> emit_fragment(const TranslationUnit& unit, uint64_t tc_address,
                               std::span<uint8_t> out) {
  if (unit.insns.empty()) return make_error("empty translation unit");
  if (!in_fragment_area(tc_address, 1)) {
    return make_error("TC address outside the translation cache's fragment area");
  }
  // The fragment must not run past the window's end (2^64).
  const uint64_t room = kTcWindowSize - (tc_address - kTcWindowBase);
  if (out.size() > room) out = out.first(room);
  return Emitter(unit, tc_address, out).run();
}

}  // namespace hvsim::bt
