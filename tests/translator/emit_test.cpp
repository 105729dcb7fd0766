// Fragments: IDENT copies, RIP-relative re-encoding, branches and their exit stubs.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace hvsim;
using namespace hvsim::bt;
using namespace hvsim::bt::test;

namespace {
uint64_t absolute_of_memory_operand(const Instruction& insn) {
  for (unsigned i = 0; i < insn.info.operand_count; ++i) {
    const auto& op = insn.operands[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.base != ZYDIS_REGISTER_RIP) continue;
    uint64_t a = 0;
    REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, insn.address, &a)));
    return a;
  }
  FAIL("no RIP-relative operand in " << insn.text());
  return 0;
}
}  // namespace

TEST_CASE("Translator: innocuous instructions are copied byte for byte") {
  const GuestCode g{0xffffffff80400000, load_asm("straight")};
  const Translated t = translate(g, g.base);
  for (size_t i = 0; i < t.unit.insns.size(); ++i) {
    const GuestInsn& gi = t.unit.insns[i];
    const InsnTranslation& tr = t.frag.insns[i];
    CAPTURE(gi.insn->text());
    CHECK(tr.rewrite == Rewrite::Ident);
    REQUIRE(tr.tc_length == gi.length());
    CHECK(std::memcmp(t.tc.data() + (tr.tc_begin - t.frag.tc_address), gi.bytes.data(), gi.length()) == 0);
    const FaultRange* r = t.frag.fault_range_at(tr.tc_begin);
    CHECK(r->ident());
    CHECK(r->guest_rip == gi.guest_rip);
  }
}

TEST_CASE("Translator: RIP-relative operands reach the same guest address from the cache") {
  const GuestCode g{0xffffffff80300000, load_asm("riprel")};
  const Translated t = translate(g, g.base);
  size_t reencoded = 0;
  for (size_t i = 0; i < t.unit.insns.size(); ++i) {
    const GuestInsn& gi = t.unit.insns[i];
    if (gi.cls.cls != InsnClass::RipRelative) continue;
    CAPTURE(gi.insn->text());
    const InsnTranslation& tr = t.frag.insns[i];
    REQUIRE(tr.rewrite == Rewrite::RipRelative);
    const Instruction e = decode_tc(t, tr.tc_begin);
    CHECK(e.length() == gi.length());
    CHECK(e.mnemonic() == gi.insn->mnemonic());
    CHECK(absolute_of_memory_operand(e) == absolute_of_memory_operand(*gi.insn));
    CHECK(e.info.raw.disp.value != gi.insn->info.raw.disp.value);  // re-encoded, not copied
    // The immediate after the displacement is untouched.
    if (gi.insn->mnemonic() == ZYDIS_MNEMONIC_ADD) CHECK(e.operands[1].imm.value.u == 5);
    ++reencoded;
  }
  CHECK(reencoded == 7);
  // The same code at another TC address gets other displacements, same targets.
  const Translated u = translate(g, g.base, kTestTc + 0x10000);
  CHECK(u.tc != t.tc);
  CHECK(absolute_of_memory_operand(decode_tc(u, u.frag.tc_address)) ==
        absolute_of_memory_operand(*t.unit.insns[0].insn));
}

TEST_CASE("Translator: a RIP-relative target out of rel32 reach becomes a callout") {
  // mov rax, [rip+0x100]; nop; ret, at 0x0000400000000000 (a user-half address far from the
  // window at the top of the address space)
  const std::vector<uint8_t> code = {0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x90, 0xc3};
  const GuestCode far_away{0x0000400000000000, code};
  const Translated t = translate(far_away, far_away.base);
  REQUIRE(t.frag.callouts.size() == 2);
  const Callout& c = t.frag.callouts[0];
  CHECK(c.kind == CalloutKind::RipRelativeOutOfReach);
  CHECK(c.guest_rip == far_away.base);
  CHECK(c.guest_length == 7);
  CHECK(c.resume_tc == t.frag.insns[1].tc_begin);
  CHECK(t.frag.insns[0].rewrite == Rewrite::Callout);

  // Flat guests at 0x100000 are within reach: addresses wrap around 2^64.
  const GuestCode low{0x100000, code};
  const Translated l = translate(low, low.base);
  CHECK(l.frag.insns[0].rewrite == Rewrite::RipRelative);
  CHECK(absolute_of_memory_operand(decode_tc(l, l.frag.tc_address)) == 0x100000 + 7 + 0x100);
}

TEST_CASE("Translator: an EIP-relative operand (0x67) is re-encoded modulo 2^32") {
  // mov eax, [eip+0x10]; ret
  const GuestCode g{0xffffffff80001000, {0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0xc3}};
  const Translated t = translate(g, g.base);
  REQUIRE(t.frag.insns[0].rewrite == Rewrite::RipRelative);
  const Instruction e = decode_tc(t, t.frag.tc_address);
  uint64_t a = 0, guest = 0;
  REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&e.info, &e.operands[1], e.address, &a)));
  REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&t.unit.insns[0].insn->info,
                                                &t.unit.insns[0].insn->operands[1], g.base, &guest)));
  CHECK(a == guest);
  CHECK(a == ((g.base + 7 + 0x10) & 0xffffffff));
}

TEST_CASE("Translator: jmp rel becomes an exit stub to the target") {
  // nop; jmp short +0x20
  const GuestCode g{0xffffffff80001000, {0x90, 0xeb, 0x20}};
  const Translated t = translate(g, g.base);
  REQUIRE(t.frag.stubs.size() == 1);
  const ExitStub& s = t.frag.stubs[0];
  CHECK(s.role == StubRole::Jump);
  CHECK(s.guest_target == g.base + 3 + 0x20);
  CHECK(s.from_guest_rip == g.base + 1);
  CHECK(s.tc_address == t.frag.tc_address + 1);
  const Callout& c = t.frag.callouts.at(s.callout_index);
  CHECK(c.next_guest_rip == s.guest_target);
  CHECK(t.frag.fault_range_at(s.tc_address + 3)->guest_rip == s.guest_target);
}

TEST_CASE("Translator: jcc emits jcc rel32 to a taken stub after the fall-through stub") {
  for (const bool short_form : {true, false}) {
    // jnz +0x30 (75 30) or jnz near +0x30 (0f 85 30 00 00 00)
    const std::vector<uint8_t> code = short_form ? std::vector<uint8_t>{0x75, 0x30}
                                                 : std::vector<uint8_t>{0x0f, 0x85, 0x30, 0, 0, 0};
    const GuestCode g{0xffffffff80001000, code};
    const Translated t = translate(g, g.base);
    const uint64_t next = g.base + code.size();
    REQUIRE(t.frag.stubs.size() == 2);
    const ExitStub& fall = t.frag.stubs[0];
    const ExitStub& taken = t.frag.stubs[1];
    CHECK(fall.role == StubRole::FallThrough);
    CHECK(fall.guest_target == next);
    CHECK(taken.role == StubRole::Taken);
    CHECK(taken.guest_target == next + 0x30);
    const Instruction j = decode_tc(t, t.frag.tc_address);
    CHECK(j.mnemonic() == ZYDIS_MNEMONIC_JNZ);
    CHECK(j.length() == 6);
    uint64_t target = 0;
    REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&j.info, &j.operands[0], j.address, &target)));
    CHECK(target == taken.tc_address);
    CHECK(fall.tc_address == j.next());
    CHECK(t.frag.size == 6 + 2 * kExitStubSize);
    CHECK(t.frag.insns[0].rewrite == Rewrite::CondJump);
  }
}

TEST_CASE("Translator: loop and jrcxz keep their rel8 form and jump to the taken stub") {
  // 67 e3 f0: jecxz -0x10 (address-size prefix: tests ECX, as in the guest)
  const GuestCode g{0xffffffff80001000, {0x67, 0xe3, 0xf0}};
  const Translated t = translate(g, g.base);
  const Instruction j = decode_tc(t, t.frag.tc_address);
  CHECK(j.mnemonic() == ZYDIS_MNEMONIC_JECXZ);
  uint64_t target = 0;
  REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&j.info, &j.operands[0], j.address, &target)));
  REQUIRE(t.frag.stubs.size() == 2);
  CHECK(target == t.frag.stubs[1].tc_address);
  CHECK(t.frag.stubs[1].guest_target == g.base + 3 - 0x10);
  CHECK(t.frag.stubs[0].guest_target == g.base + 3);
}

TEST_CASE("Translator: a direct call pushes the guest return address, never a TC address") {
  SUBCASE("kernel in the top 2 GiB: push imm32, sign-extended to the return address") {
    // call +0x100 (e8 00 01 00 00) at 0xffffffff80001000
    const GuestCode g{0xffffffff80001000, {0xe8, 0x00, 0x01, 0x00, 0x00}};
    const Translated t = translate(g, g.base);
    const Instruction p = decode_tc(t, t.frag.tc_address);
    CHECK(p.mnemonic() == ZYDIS_MNEMONIC_PUSH);
    CHECK(p.operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE);
    CHECK(static_cast<uint64_t>(p.operands[0].imm.value.s) == g.base + 5);
    CHECK(p.info.operand_width == 64);
    REQUIRE(t.frag.stubs.size() == 2);
    CHECK(t.frag.stubs[0].role == StubRole::Call);
    CHECK(t.frag.stubs[0].guest_target == g.base + 5 + 0x100);
    CHECK(t.frag.stubs[0].tc_address == p.next());
    // The return point, which only the return-address cache leads to.
    CHECK(t.frag.stubs[1].role == StubRole::ReturnPoint);
    CHECK(t.frag.stubs[1].guest_target == g.base + 5);
    CHECK(t.frag.stubs[1].tc_address == p.next() + kExitStubSize);
    CHECK(t.frag.fault_range_at(p.address)->undo_rsp == 0);  // a faulting push moves nothing
    CHECK(t.frag.fault_range_at(p.address)->guest_rip == g.base);
  }
  SUBCASE("elsewhere: lea rsp,[rsp-8]; mov dword [rsp], low32; mov dword [rsp+4], high32") {
    const GuestCode g{0x00007fff12345000, {0xe8, 0x00, 0x01, 0x00, 0x00}};
    const uint64_t ret = g.base + 5;
    const Translated t = translate(g, g.base);
    const Instruction lea = decode_tc(t, t.frag.tc_address);
    CHECK(lea.text() == "lea rsp, [rsp-0x08]");
    const Instruction lo = decode_tc(t, lea.next());
    CHECK(lo.mnemonic() == ZYDIS_MNEMONIC_MOV);
    CHECK(lo.operands[0].mem.base == ZYDIS_REGISTER_RSP);
    CHECK(lo.operands[0].mem.disp.value == 0);
    CHECK(lo.operands[0].size == 32);
    CHECK(lo.operands[1].imm.value.u == (ret & 0xffffffff));
    const Instruction hi = decode_tc(t, lo.next());
    CHECK(hi.mnemonic() == ZYDIS_MNEMONIC_MOV);
    CHECK(hi.operands[0].mem.disp.value == 4);
    CHECK(hi.operands[1].imm.value.u == (ret >> 32));
    CHECK(t.frag.stubs.at(0).tc_address == hi.next());
    // A stack fault in either store is reported at the CALL with RSP put back.
    CHECK(t.frag.fault_range_at(lea.address)->undo_rsp == 0);
    CHECK(t.frag.fault_range_at(lo.address)->undo_rsp == 8);
    CHECK(t.frag.fault_range_at(hi.address)->undo_rsp == 8);
    CHECK(t.frag.fault_range_at(hi.address)->guest_rip == g.base);
  }
}

namespace {
// The instructions of the fragment from `from` on, decoded one after another up to `to`.
std::vector<Instruction> decode_range(const Translated& t, uint64_t from, uint64_t to) {
  std::vector<Instruction> out;
  for (uint64_t at = from; at < to;) {
    out.push_back(decode_tc(t, at));
    at = out.back().next();
  }
  return out;
}
}  // namespace

TEST_CASE("Translator: indirect branches and returns look their target up in the cache") {
  // call [rax] (ff 10); never reached: nop
  const GuestCode g{0xffffffff80001000, {0xff, 0x10, 0x90}};
  const Translated t = translate(g, g.base);
  CHECK(t.unit.insns.size() == 1);
  REQUIRE(t.frag.insns.size() == 1);
  CHECK(t.frag.insns[0].rewrite == Rewrite::Lookup);
  // A miss is a callout for the VMM to resolve; the call's return point is a stub.
  REQUIRE(t.frag.callouts.size() == 2);
  const Callout& miss = t.frag.callouts[0];
  CHECK(miss.kind == CalloutKind::IndirectCall);
  CHECK(miss.next_guest_rip == g.base + 2);  // the return address to push
  CHECK(miss.resume_tc == 0);
  REQUIRE(t.frag.stubs.size() == 1);
  CHECK(t.frag.stubs[0].role == StubRole::ReturnPoint);
  CHECK(t.frag.stubs[0].guest_target == g.base + 2);

  const std::vector<Instruction> code = decode_range(t, t.frag.tc_address, t.frag.stubs[0].tc_address);
  std::vector<std::string> text;
  for (const Instruction& i : code) text.push_back(i.text());
  CAPTURE(text);
  REQUIRE(code.size() >= 20);
  // The guest's operand, through RAX; the table indexed by the target's low 16 bits.
  CHECK(code[1].text() == "mov rax, [rax]");
  CHECK(code[3].text() == "movzx ecx, ax");
  CHECK(code[4].operands[1].mem.disp.value == static_cast<int64_t>(lookup_keys(LookupTable::Hash)));
  CHECK(code[7].mnemonic() == ZYDIS_MNEMONIC_JRCXZ);
  CHECK(code[10].address == miss.tc_address);
  CHECK(code[12].operands[1].mem.disp.value == static_cast<int64_t>(lookup_tcs(LookupTable::Hash)));
  // Nothing touches the guest's flags.
  for (const Instruction& i : code) {
    CAPTURE(i.text());
    const ZydisAccessedFlags* f = i.info.cpu_flags;
    CHECK((f->modified | f->set_0 | f->set_1 | f->undefined) == 0);
  }
  // The push of the guest's return address, then the jump: the only instruction that retires.
  const Instruction& push = code[code.size() - 2];
  CHECK(push.mnemonic() == ZYDIS_MNEMONIC_PUSH);
  CHECK(static_cast<uint64_t>(push.operands[0].imm.value.s) == g.base + 2);
  const Instruction& jump = code.back();
  CHECK(jump.mnemonic() == ZYDIS_MNEMONIC_JMP);
  for (const Instruction& i : code) {
    const bool vmm = std::find(t.frag.uncounted.begin(), t.frag.uncounted.end(), i.address) != t.frag.uncounted.end();
    const bool callout = i.address == miss.tc_address;
    CHECK((vmm || callout) == (i.address != jump.address));
  }
  // A stop anywhere reports the call, with RAX and RCX put back once they were saved, and
  // RSP once the return address was pushed.
  const FaultRange* first = t.frag.fault_range_at(code[0].address);
  CHECK(first->guest_rip == g.base);
  CHECK(first->restore == 0);
  // The target's load and RCX's save: RAX only (a stop at the save: RCX is not saved yet).
  CHECK(t.frag.fault_range_at(code[1].address)->restore == FaultRange::kRestoreRax);
  CHECK(t.frag.fault_range_at(code[2].address)->restore == FaultRange::kRestoreRax);
  for (size_t i = 3; i < code.size(); ++i) {
    if (code[i].address == miss.tc_address) continue;
    const FaultRange* r = t.frag.fault_range_at(code[i].address);
    CAPTURE(code[i].text());
    CHECK(r->guest_rip == g.base);
    CHECK(r->restore == (FaultRange::kRestoreRax | FaultRange::kRestoreRcx));
    CHECK(r->undo_rsp == (code[i].address == jump.address ? 8 : 0));
  }
}

TEST_CASE("Translator: a return pops through the return-address cache; jmp r/m through the hash table") {
  // ret 16 (c2 10 00)
  const GuestCode r{0xffffffff80001000, {0xc2, 0x10, 0x00}};
  const Translated rt = translate(r, r.base);
  REQUIRE(rt.frag.insns.at(0).rewrite == Rewrite::Lookup);
  CHECK(rt.frag.callouts.at(0).kind == CalloutKind::Return);
  const auto ret_code = decode_range(rt, rt.frag.tc_address, rt.frag.tc_address + rt.frag.size);
  CHECK(ret_code[1].text() == "mov rax, [rsp]");
  CHECK(ret_code[4].operands[1].mem.disp.value == static_cast<int64_t>(lookup_keys(LookupTable::ReturnCache)));
  CHECK(ret_code[ret_code.size() - 2].text() == "lea rsp, [rsp+0x18]");
  CHECK(rt.frag.fault_range_at(ret_code.back().address)->undo_rsp == -0x18);

  // jmp rax (ff e0), jmp [rip+0x100] (ff 25 00 01 00 00), jmp qword ptr fs:[r9+r10*8] (64 43 ff 24 d1)
  const GuestCode j{0xffffffff80001000, {0xff, 0xe0}};
  const Translated jt = translate(j, j.base);
  CHECK(jt.frag.callouts.at(0).kind == CalloutKind::IndirectJump);
  CHECK(decode_tc(jt, jt.frag.tc_address + 7).text() == "mov rax, rax");
  const GuestCode m{0xffffffff80001000, {0xff, 0x25, 0x00, 0x01, 0x00, 0x00}};
  const Translated mt = translate(m, m.base);
  const Instruction load = decode_tc(mt, mt.frag.tc_address + 7);
  CHECK(absolute_of_memory_operand(load) == m.base + 6 + 0x100);
  const GuestCode s{0xffffffff80001000, {0x64, 0x43, 0xff, 0x24, 0xd1}};
  const Translated st = translate(s, s.base);
  CHECK(decode_tc(st, st.frag.tc_address + 7).text() == "mov rax, fs:[r9+r10*8]");
  CHECK(st.frag.stubs.empty());  // a jump has no return point
}

TEST_CASE("Translator: indirect forms the lookup does not take remain callouts") {
  // call [rip+0x100] at 0x0000400000000000: the operand is out of the cache's rel32 reach, and
  // so is the return address for push imm32.
  const GuestCode far_away{0x0000400000000000, {0xff, 0x15, 0x00, 0x01, 0x00, 0x00}};
  const Translated f = translate(far_away, far_away.base);
  CHECK(f.frag.insns.at(0).rewrite == Rewrite::Callout);
  CHECK(f.frag.callouts.at(0).kind == CalloutKind::IndirectCall);
  CHECK(f.frag.stubs.at(0).role == StubRole::ReturnPoint);
  // jmp ax (66 ff e0): a 16-bit operand.
  const GuestCode narrow{0xffffffff80001000, {0x66, 0xff, 0xe0}};
  CHECK(translate(narrow, narrow.base).frag.insns.at(0).rewrite == Rewrite::Callout);
  // bnd jmp rax (f2 ff e0): a prefix the copy would not keep.
  const GuestCode bnd{0xffffffff80001000, {0xf2, 0xff, 0xe0}};
  CHECK(translate(bnd, bnd.base).frag.insns.at(0).rewrite == Rewrite::Callout);
}

TEST_CASE("Translator: emit_fragment refuses bad placements and small buffers") {
  const GuestCode g{0xffffffff80400000, load_asm("straight")};
  const TranslationUnit u = build_unit(g.reader(), g.base);
  std::vector<uint8_t> buf(kMaxFragmentSize);
  CHECK_FALSE(emit_fragment(u, kTcWindowBase, buf).ok());            // the VMM data area
  CHECK_FALSE(emit_fragment(u, 0xffffffff80000000, buf).ok());       // outside the window
  CHECK_FALSE(emit_fragment(TranslationUnit{}, kTestTc, buf).ok());  // empty unit
  // The window ends at 2^64: a fragment may not run past it.
  CHECK_FALSE(emit_fragment(u, 0xfffffffffffffff0, buf).ok());
  std::vector<uint8_t> small(10, 0xee);
  auto r = emit_fragment(u, kTestTc, std::span<uint8_t>(small.data(), 8));
  CHECK_FALSE(r.ok());
  CHECK(small[8] == 0xee);  // nothing written past the span
  CHECK(small[9] == 0xee);
}
