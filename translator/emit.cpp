#include "translator/emit.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

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

  void range(uint64_t begin, FaultRange::Kind kind, uint64_t guest_rip, int32_t undo_rsp = 0, uint8_t restore = 0) {
    const uint64_t end = sink_.here();
    if (end == begin) return;
    frag_.fault_map.push_back({begin, static_cast<uint32_t>(end - begin), guest_rip, kind, undo_rsp, restore});
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
      case InsnClass::IndirectBranch: return indirect_branch(gi);
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
    if (k == SensitiveKind::Pause) {  // a hint with nothing to virtualize, copied
      const uint64_t at = sink_.here();
      sink_.put({0xf3, 0x90});
      range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
      return Rewrite::InCache;
    }
    if (k == SensitiveKind::MovToCr8 && mov_to_cr8(gi)) return Rewrite::InCache;
    if (k == SensitiveKind::MovFromCr8) {
      // movzx r32, byte [rip + virtual TPR]: the whole register, zero-extended, as MOV from CR8.
      count_in_cache(gi);
      const uint64_t at = sink_.here();
      const unsigned r = gpr_number(gi.insn->operands[0].reg.value);
      sink_.put({static_cast<uint8_t>(0x40 | (r >= 8 ? 4 : 0)), 0x0f, 0xb6, static_cast<uint8_t>(0x05 | (r & 7) << 3)});
      sink_.put32(static_cast<uint32_t>(kTcWindowBase + vmm_data::kVirtualTpr - (at + 8)));
      range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
      return Rewrite::InCache;
    }
    if (k == SensitiveKind::Cli || (k == SensitiveKind::PortIo && gi.open_bus_io)) {
      count_in_cache(gi);
      const uint64_t at = sink_.here();
      if (k == SensitiveKind::Cli) {
        // mov byte [rip + disp32], 0: C6 /0 with ModRM 05 (RIP-relative); no flags touched.
        const int64_t d = static_cast<int64_t>(kVirtualIfAddress - (at + 7));
        sink_.put({0xc6, 0x05});
        sink_.put32(static_cast<uint32_t>(d));
        sink_.put({0x00});
      } else if (gi.insn->mnemonic() == ZYDIS_MNEMONIC_IN) {
        // Nobody answers: the accumulator reads all ones (MOV, like IN, leaves the flags).
        switch (gi.insn->operands[0].size) {
          case 8: sink_.put({0xb0, 0xff}); break;                          // mov al, 0xff
          case 16: sink_.put({0x66, 0xb8, 0xff, 0xff}); break;             // mov ax, 0xffff
          default: sink_.put({0xb8, 0xff, 0xff, 0xff, 0xff}); break;       // mov eax, 0xffffffff
        }
      } else {
        sink_.put({0x90});  // OUT to nobody: nothing happens, but it retires
      }
      range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
      return Rewrite::InCache;
    }
    callout(gi, CalloutKind::Sensitive, k, !gi.cls.ends_unit);
    return Rewrite::Callout;
  }

  static unsigned gpr_number(ZydisRegister r) { return static_cast<unsigned>(r - ZYDIS_REGISTER_RAX); }

  // MOV to CR8 inside the cache, as VMware's translator did: the new class goes to the
  // virtual TPR byte (the guest's CR8, UnicornCpu::set_tpr_home) unless bits 63:4 of the
  // source are set (#GP) or the new class lets a waiting interrupt through; those two call
  // out, for the VMM to raise the #GP or to deliver the interrupt right after the write. The
  // checks are table lookups (vmm_layout.hpp) in RCX, with no flag touched:
  //
  //   mov [save_rcx], rcx
  //   movzx ecx, <src low byte>; movzx ecx, byte [rcx + low4]   src & 0xf
  //   not rcx; lea rcx, [src + rcx + 1]                        src - (src & 0xf)
  //   jrcxz 1f; mov rcx, [save_rcx]; hlt                       bits 63:4 set: callout
  // 1: movzx ecx, byte [waiting_class]
  //   lea rcx, [rcx + src*8]; lea rcx, [rcx + src*8]           waiting + 16 * src
  //   movzx ecx, byte [rcx + unmasks]
  //   jrcxz 2f; mov rcx, [save_rcx]; hlt                       an interrupt gets through: callout
  // 2: (the in-cache count), mov rcx, [save_rcx]
  //   mov byte [virtual_tpr], <src low byte>                   retires as the guest's MOV
  //
  // false (nothing emitted) for a source the sequence cannot use: RCX, its scratch, or RSP.
  bool mov_to_cr8(const GuestInsn& gi) {
    const ZydisRegister src_reg = gi.insn->operands[1].reg.value;
    if (src_reg < ZYDIS_REGISTER_RAX || src_reg > ZYDIS_REGISTER_R15) return false;
    const unsigned r = gpr_number(src_reg);
    if (r == 1 || r == 4) return false;
    constexpr uint8_t kRcx = 1;
    const uint8_t rex_b = r >= 8 ? 1 : 0, rex_x = r >= 8 ? 2 : 0, rex_r = r >= 8 ? 4 : 0;
    const uint64_t rip = gi.guest_rip;
    uint64_t at = sink_.here();
    data_mov(0x89, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, rip);
    at = sink_.here();
    vmm_put({static_cast<uint8_t>(0x40 | rex_b), 0x0f, 0xb6, static_cast<uint8_t>(0xc8 | (r & 7))});  // movzx ecx, src8
    byte_table_load(kLow4);
    vmm_put({0x48, 0xf7, 0xd1});  // not rcx
    vmm_put({static_cast<uint8_t>(0x48 | rex_b), 0x8d, 0x4c, static_cast<uint8_t>(0x08 | (r & 7)), 0x01});  // lea rcx, [src + rcx + 1]
    constexpr uint8_t kCalloutBytes = 7 + 1;
    vmm_put({0xe3, kCalloutBytes});  // jrcxz
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, rip, 0, FaultRange::kRestoreRcx);
    callout(gi, CalloutKind::Sensitive, SensitiveKind::MovToCr8, false);
    at = sink_.here();
    vmm_put({0x0f, 0xb6, 0x0d});  // movzx ecx, byte [rip + waiting class]
    sink_.put32(static_cast<uint32_t>(kTcWindowBase + vmm_data::kWaitingClass - (sink_.here() + 4)));
    for (int twice = 0; twice < 2; ++twice) {  // lea rcx, [rcx + src*8]
      vmm_put({static_cast<uint8_t>(0x48 | rex_x), 0x8d, 0x0c, static_cast<uint8_t>(0xc1 | (r & 7) << 3)});
    }
    byte_table_load(kUnmasks);
    vmm_put({0xe3, kCalloutBytes});  // jrcxz
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, rip, 0, FaultRange::kRestoreRcx);
    callout(gi, CalloutKind::Sensitive, SensitiveKind::MovToCr8, false);
    at = sink_.here();
    increment_in_rcx(vmm_data::kInCacheEmulations);
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, rip, 0, FaultRange::kRestoreRcx);
    at = sink_.here();
    sink_.put({static_cast<uint8_t>(0x40 | rex_r), 0x88, static_cast<uint8_t>(0x05 | (r & 7) << 3)});  // mov [rip + d], src8
    sink_.put32(static_cast<uint32_t>(kTcWindowBase + vmm_data::kVirtualTpr - (at + 7)));
    range(at, FaultRange::Kind::Rewritten, rip);
    return true;
  }
  // movzx ecx, byte [rcx + table] (a constant table in the window's top 2 GiB).
  void byte_table_load(uint64_t table) {
    vmm_put({0x0f, 0xb6, 0x89});
    sink_.put32(static_cast<uint32_t>(table));
  }

  // The count of in-cache emulations (vmm_data::kInCacheEmulations), incremented without a
  // flag through RCX, which is saved and put back: the VMM's instructions, before the one
  // that retires as the guest's.
  void count_in_cache(const GuestInsn& gi) {
    constexpr uint8_t kRcx = 1;
    uint64_t at = sink_.here();
    data_mov(0x89, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, gi.guest_rip);
    at = sink_.here();
    increment_in_rcx(vmm_data::kInCacheEmulations);
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    range(at, FaultRange::Kind::Rewritten, gi.guest_rip, 0, FaultRange::kRestoreRcx);
  }

  // A 64-bit count in the data area, plus one through RCX (already saved), no flag touched.
  void increment_in_rcx(uint64_t data_offset) {
    constexpr uint8_t kRcx = 1;
    data_mov(0x8b, kRcx, data_offset);
    vmm_put({0x48, 0x8d, 0x49, 0x01});  // lea rcx, [rcx + 1]
    data_mov(0x89, kRcx, data_offset);
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
        stub(gi.next_rip(), gi.guest_rip, StubRole::ReturnPoint);
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

  // Indirect jmp and call (near, r/m64) and ret [imm16]: the target is looked up inside the
  // cache, jmp and call targets in the hash table, return addresses in the return-address
  // cache (vmm_layout.hpp); only a miss is a callout, which the VMM resolves and then enters
  // in the table. The lookup works in RAX and RCX, saved in the data area, and touches no
  // flag (MOVZX, NOT, LEA, JRCXZ), so the guest's RFLAGS need no saving:
  //
  //   mov [save_rax], rax
  //   mov rax, <target>            the guest's operand, or [rsp] for ret: may fault as the guest's
  //   mov [save_rcx], rcx
  //   movzx ecx, ax                the index: the target's low 16 bits
  //   mov rcx, [rcx*8 + keys]
  //   not rcx
  //   lea rcx, [rcx + rax + 1]     target - key
  //   jrcxz hit
  //   mov rcx, [save_rcx]          miss: the guest state before the instruction, and a callout
  //   mov rax, [save_rax]
  //   hlt
  // hit:
  //   movzx ecx, ax
  //   mov rcx, [rcx*8 + tcs]
  //   mov [lookup_target], rcx
  //   mov rcx, [hits]; lea rcx, [rcx + 1]; mov [hits], rcx
  //   mov rcx, [save_rcx]
  //   mov rax, [save_rax]
  //   push imm32 (call) | lea rsp, [rsp + 8 + imm16] (ret)
  //   jmp [lookup_target]          retires as the guest's instruction; nothing before it does
  //
  // A stop anywhere inside reports the guest instruction with RAX, RCX and RSP as before it.
  // Forms it does not take (another operand size, a prefix other than a segment or address
  // size, an operand or return address out of reach) remain a callout.
  Rewrite indirect_branch(const GuestInsn& gi) {
    const BranchKind branch = gi.cls.branch;
    const CalloutKind kind = branch == BranchKind::IndirectCall ? CalloutKind::IndirectCall
                             : branch == BranchKind::Return     ? CalloutKind::Return
                                                                : CalloutKind::IndirectJump;
    const LookupTable table = branch == BranchKind::Return ? LookupTable::ReturnCache : LookupTable::Hash;
    const uint64_t ret = gi.next_rip();
    const bool push_fits = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(ret))) == ret;
    const uint64_t begin = sink_.here();
    std::optional<std::vector<uint8_t>> load = target_load(gi, begin + 7);
    if (!load || (branch == BranchKind::IndirectCall && !push_fits)) {
      callout(gi, kind, SensitiveKind::Count, false);
      if (branch == BranchKind::IndirectCall) stub(ret, gi.guest_rip, StubRole::ReturnPoint);
      return Rewrite::Callout;
    }
    constexpr uint8_t kRax = 0, kRcx = 1;
    constexpr uint8_t kBoth = FaultRange::kRestoreRax | FaultRange::kRestoreRcx;
    const uint64_t rip = gi.guest_rip;
    data_mov(0x89, kRax, vmm_data::kLookupSaveRax);
    range(begin, FaultRange::Kind::Rewritten, rip);
    uint64_t at = sink_.here();
    vmm_put(load->data(), load->size());
    data_mov(0x89, kRcx, vmm_data::kLookupSaveRcx);  // a stop at it: RCX not saved yet
    range(at, FaultRange::Kind::Rewritten, rip, 0, FaultRange::kRestoreRax);
    at = sink_.here();
    vmm_put({0x0f, 0xb7, 0xc8});  // movzx ecx, ax
    table_load(lookup_keys(table));
    vmm_put({0x48, 0xf7, 0xd1});              // not rcx
    vmm_put({0x48, 0x8d, 0x4c, 0x01, 0x01});  // lea rcx, [rcx + rax + 1]
    constexpr uint8_t kMissBytes = 7 + 7 + 1;
    vmm_put({0xe3, kMissBytes});  // jrcxz hit
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    data_mov(0x8b, kRax, vmm_data::kLookupSaveRax);
    range(at, FaultRange::Kind::Rewritten, rip, 0, kBoth);
    callout(gi, kind, SensitiveKind::Count, false);
    at = sink_.here();
    vmm_put({0x0f, 0xb7, 0xc8});  // movzx ecx, ax
    table_load(lookup_tcs(table));
    data_mov(0x89, kRcx, vmm_data::kLookupTarget);
    increment_in_rcx(table == LookupTable::Hash ? vmm_data::kHashHits : vmm_data::kReturnCacheHits);
    data_mov(0x8b, kRcx, vmm_data::kLookupSaveRcx);
    data_mov(0x8b, kRax, vmm_data::kLookupSaveRax);
    int32_t moved_rsp = 0;
    if (branch == BranchKind::IndirectCall) {
      range(at, FaultRange::Kind::Rewritten, rip, 0, kBoth);
      at = sink_.here();
      vmm_put({0x68});  // push imm32: a fault is the guest CALL's, RSP unchanged
      sink_.put32(static_cast<uint32_t>(ret));
      range(at, FaultRange::Kind::Rewritten, rip, 0, kBoth);
      at = sink_.here();
      moved_rsp = -8;
    } else if (branch == BranchKind::Return) {
      const Instruction& insn = *gi.insn;
      const uint32_t popped = 8 + (insn.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE
                                       ? static_cast<uint32_t>(insn.operands[0].imm.value.u & 0xffff)
                                       : 0);
      vmm_put({0x48, 0x8d, 0xa4, 0x24});  // lea rsp, [rsp + popped]
      sink_.put32(popped);
      range(at, FaultRange::Kind::Rewritten, rip, 0, kBoth);
      at = sink_.here();
      moved_rsp = static_cast<int32_t>(popped);
    }
    data_jmp(vmm_data::kLookupTarget);  // the guest's instruction: not in frag_.uncounted
    range(at, FaultRange::Kind::Rewritten, rip, -moved_rsp, kBoth);
    if (branch == BranchKind::IndirectCall) stub(ret, gi.guest_rip, StubRole::ReturnPoint);
    return Rewrite::Lookup;
  }

  // mov rax, <the branch's target>, placed at `at`: for ret, [rsp]; for jmp or call r/m64,
  // the same operand (MOV r64, r/m64 keeps ModRM's mode and r/m, SIB and displacement, a
  // RIP-relative one re-encoded for `at`). nullopt for forms the lookup does not take.
  std::optional<std::vector<uint8_t>> target_load(const GuestInsn& gi, uint64_t at) const {
    const Instruction& insn = *gi.insn;
    if (insn.info.operand_width != 64) return std::nullopt;
    if (gi.cls.branch == BranchKind::Return) return std::vector<uint8_t>{0x48, 0x8b, 0x04, 0x24};
    const auto& raw = insn.info.raw;
    if (insn.info.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || raw.modrm.offset == 0) return std::nullopt;
    const unsigned opcode_at = raw.modrm.offset - 1u;
    if (gi.bytes[opcode_at] != 0xff) return std::nullopt;
    std::vector<uint8_t> out;
    uint8_t rex = 0x48;
    for (unsigned i = 0; i < opcode_at; ++i) {
      const uint8_t b = gi.bytes[i];
      if ((insn.info.attributes & ZYDIS_ATTRIB_HAS_REX) && i == raw.rex.offset) {
        rex |= b & 0x03;  // X and B: the operand's index and base or register
        continue;
      }
      const bool segment = b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
      if (!segment && b != 0x67) return std::nullopt;
      out.push_back(b);
    }
    out.push_back(rex);
    out.push_back(0x8b);
    const size_t modrm_at = out.size();
    out.push_back(static_cast<uint8_t>(gi.bytes[raw.modrm.offset] & 0xc7));  // reg = RAX
    out.insert(out.end(), gi.bytes.begin() + raw.modrm.offset + 1, gi.bytes.begin() + insn.length());
    const uint8_t modrm = out[modrm_at];
    if ((modrm & 0xc7) == 0x05) {  // [rip + disp32] (or [eip + disp32] with 0x67)
      const auto& op = insn.operands[0];
      uint64_t absolute = 0;
      if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, gi.guest_rip, &absolute))) return std::nullopt;
      const int64_t d = static_cast<int64_t>(absolute - (at + out.size()));
      if (insn.info.address_width != 32 && !fits_rel32(d)) return std::nullopt;
      const uint32_t v = static_cast<uint32_t>(d);
      std::memcpy(out.data() + modrm_at + 1, &v, 4);
    }
    return out;
  }

  // An instruction of the VMM's: it does not retire (UnicornCpu::set_uncounted).
  void vmm_put(std::initializer_list<uint8_t> bytes) { vmm_put(bytes.begin(), bytes.size()); }
  void vmm_put(const uint8_t* bytes, size_t n) {
    frag_.uncounted.push_back(sink_.here());
    sink_.put(bytes, n);
  }
  // MOV between a 64-bit register (0 RAX, 1 RCX) and the VMM data area, RIP-relative:
  // opcode 0x89 stores, 0x8b loads.
  void data_mov(uint8_t opcode, uint8_t reg, uint64_t data_offset) {
    const uint64_t end = sink_.here() + 7;
    vmm_put({0x48, opcode, static_cast<uint8_t>(0x05 | reg << 3)});
    sink_.put32(static_cast<uint32_t>(kTcWindowBase + data_offset - end));
  }
  // jmp [rip + disp32] to the address stored in the data area.
  void data_jmp(uint64_t data_offset) {
    const uint64_t end = sink_.here() + 6;
    sink_.put({0xff, 0x25});
    sink_.put32(static_cast<uint32_t>(kTcWindowBase + data_offset - end));
  }
  // mov rcx, [rcx*8 + array]: the window is in the top 2 GiB, so a sign-extended disp32
  // addresses it without a base register.
  void table_load(uint64_t array) {
    vmm_put({0x48, 0x8b, 0x0c, 0xcd});
    sink_.put32(static_cast<uint32_t>(array));
  }
  static_assert(kTcWindowBase >= 0xffffffff80000000ull, "disp32 addressing of the data area");

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
