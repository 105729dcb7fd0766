// Sensitive and privileged instructions: recognized, and never left in the cache as such.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "translator/classify.hpp"

using namespace hvsim;
using namespace hvsim::bt;
using namespace hvsim::bt::test;
using K = SensitiveKind;

namespace {
// In the order of asm/sensitive.asm, one per instruction.
const K kExpected[] = {
    K::Cli, K::Sti, K::Pushf, K::Pushf, K::Popf,
    K::MovToCr, K::MovToCr, K::MovToCr, K::MovToCr,
    K::MovFromCr, K::MovFromCr, K::MovFromCr, K::MovFromCr,
    K::MovToCr8, K::MovFromCr8, K::MovDr, K::MovDr,
    K::LoadDescriptorTable, K::LoadDescriptorTable, K::StoreDescriptorTable, K::StoreDescriptorTable,
    K::LoadSystemSegment, K::LoadSystemSegment, K::StoreSystemSegment, K::StoreSystemSegment,
    K::Smsw, K::Lmsw, K::Clts,
    K::SegmentCheck, K::SegmentCheck, K::SegmentCheck, K::SegmentCheck,
    K::PushSegment, K::PushSegment, K::PopSegment, K::PopSegment,
    K::MovSegment, K::MovSegment, K::MovSegment, K::MovSegment,
    K::LoadFarPointer, K::LoadFarPointer, K::LoadFarPointer,
    K::FarTransfer, K::FarTransfer, K::FarTransfer, K::FarTransfer,
    K::IntN, K::Int3, K::Int1, K::Iret, K::Iret, K::Sysret, K::Sysret, K::Syscall,
    K::Sysenter, K::Sysenter, K::Swapgs, K::Rdmsr, K::Wrmsr,
    K::PortIo, K::PortIo, K::PortIo, K::PortIo,
    K::StringIo, K::StringIo, K::StringIo, K::StringIo,
    K::Hlt, K::Invlpg, K::Invlpg, K::Cpuid, K::Rdtsc, K::Rdtscp, K::Rdpid, K::Rdpmc,
    K::CacheControl, K::CacheControl, K::CacheControl, K::Random, K::Random, K::Pause,
    K::Xsetbv, K::Xgetbv, K::MonitorMwait, K::MonitorMwait, K::MonitorMwait,
    K::Vmcall, K::Vmcall, K::FsGsBase, K::FsGsBase, K::Pkru, K::Pkru, K::Smap, K::Smap,
    K::Virtualization, K::Virtualization, K::Virtualization, K::Virtualization,
    K::Virtualization, K::Virtualization, K::Virtualization, K::Virtualization,
    K::OtherRelative, K::OtherPrivileged, K::OtherPrivileged,
};

GuestCode sensitive_code() {
  // The code, without the 16 bytes of data after it (`table`).
  const std::vector<uint8_t> file = load_asm("sensitive");
  REQUIRE(file.size() > 16);
  return GuestCode{0xffffffff80100000, std::vector<uint8_t>(file.begin(), file.end() - 16)};
}
}  // namespace

TEST_CASE("Translator: the sensitive-instruction table is complete and says why") {
  for (size_t i = 0; i < kSensitiveKindCount; ++i) {
    const auto k = static_cast<SensitiveKind>(i);
    CAPTURE(sensitive_name(k));
    CHECK(std::string(sensitive_text(k)).size() > 1);
    CHECK(std::string(sensitive_reason(k)).size() > 20);
    // CLI, PAUSE and MOV to and from CR8 are handled inside the cache (port I/O too when no
    // device answers, which only the engine knows); everything else calls out.
    const bool in_cache = k == K::Cli || k == K::Pause || k == K::MovToCr8 || k == K::MovFromCr8;
    CHECK((sensitive_handling(k) == Handling::InCache) == in_cache);
  }
  CHECK(std::string(sensitive_name(K::Count)) == "?");
}

TEST_CASE("Translator: every sensitive instruction of the list is recognized") {
  const GuestCode g = sensitive_code();
  std::set<K> seen;
  size_t n = 0;
  for (uint64_t rip = g.base; rip < g.end();) {
    auto insn = decode_instruction(g.bytes.data() + (rip - g.base), g.end() - rip, rip);
    REQUIRE_MESSAGE(insn.has_value(), "undecodable at +" << (rip - g.base));
    REQUIRE(n < std::size(kExpected));
    const Classification c = classify(*insn);
    CAPTURE(insn->text());
    CHECK(c.cls == InsnClass::Sensitive);
    CHECK(sensitive_name(c.sensitive) == std::string(sensitive_name(kExpected[n])));
    seen.insert(c.sensitive);
    rip = insn->next();
    ++n;
  }
  CHECK(n == std::size(kExpected));
  CHECK(seen.size() == kSensitiveKindCount);  // every row of the table has an instance
}

TEST_CASE("Translator: no sensitive instruction is copied IDENT or survives in the cache") {
  const GuestCode g = sensitive_code();
  size_t units = 0, callouts = 0;
  for (uint64_t rip = g.base; rip < g.end(); ++units) {
    const Translated t = translate(g, rip);
    for (size_t i = 0; i < t.unit.insns.size(); ++i) {
      const GuestInsn& gi = t.unit.insns[i];
      if (!gi.decoded()) {  // the last unit runs into the end of the code
        CHECK(gi.guest_rip == g.end());
        continue;
      }
      CAPTURE(gi.insn->text());
      const Rewrite r = t.frag.insns[i].rewrite;
      CHECK(r != Rewrite::Ident);
      CHECK(r != Rewrite::RipRelative);
      const Handling h = sensitive_handling(gi.cls.sensitive);
      CHECK((r == Rewrite::InCache) == (h == Handling::InCache));
    }
    // Decode every emitted byte range: the only sensitive instructions left are the HLTs
    // of callouts (and PAUSE, copied on purpose).
    for (const auto& range : t.frag.fault_map) {
      uint64_t at = range.tc_begin;
      while (at < range.tc_begin + range.length) {
        const Instruction e = decode_tc(t, at);
        const Classification c = classify(e);
        CAPTURE(e.text());
        if (c.cls == InsnClass::Sensitive) {
          if (c.sensitive == K::Hlt) {
            const Callout* co = t.frag.callout_at(at);
            REQUIRE(co != nullptr);
            if (co->kind == CalloutKind::Sensitive) ++callouts;
          } else {
            CHECK(c.sensitive == K::Pause);
          }
        }
        // A stub's bytes after its HLT are padding, never executed.
        at = range.kind == FaultRange::Kind::ExitStub ? range.tc_begin + range.length : e.next();
      }
    }
    rip = t.unit.next_guest_rip;
  }
  CHECK(units > 10);
  // All but CLI, PAUSE and MOV from CR8 call out; MOV to CR8 has two (reserved bits, an
  // interrupt let through).
  CHECK(callouts == std::size(kExpected) - 4 + 2);
}

namespace {
// The in-cache emulation of the unit's first instruction: the VMM's count of it (flag-free,
// through RCX, put back at any stop), then the one instruction that retires as the guest's.
Instruction check_in_cache(const Translated& t) {
  const InsnTranslation& tr = t.frag.insns.at(0);
  CHECK(tr.rewrite == Rewrite::InCache);
  std::vector<Instruction> code;
  for (uint64_t at = tr.tc_begin; at < tr.tc_begin + tr.tc_length;) {
    code.push_back(decode_tc(t, at));
    at = code.back().next();
  }
  REQUIRE(code.size() == 6);
  CHECK(code[0].text() == "mov [0xFFFFFFFFFF000018], rcx");
  CHECK(code[1].text() == "mov rcx, [0xFFFFFFFFFF000038]");
  CHECK(code[2].text() == "lea rcx, [rcx+0x01]");
  CHECK(code[3].text() == "mov [0xFFFFFFFFFF000038], rcx");
  CHECK(code[4].text() == "mov rcx, [0xFFFFFFFFFF000018]");
  for (size_t i = 0; i < code.size(); ++i) {
    const ZydisAccessedFlags* f = code[i].info.cpu_flags;
    CHECK((f->modified | f->set_0 | f->set_1 | f->undefined) == 0);
    const bool vmm = std::count(t.frag.uncounted.begin(), t.frag.uncounted.end(), code[i].address) == 1;
    CHECK(vmm == (i < 5));  // only the last retires, as the guest's instruction
    const FaultRange* r = t.frag.fault_range_at(code[i].address);
    CHECK(r->guest_rip == t.unit.insns[0].guest_rip);
    CHECK(r->restore == (i >= 1 && i <= 4 ? FaultRange::kRestoreRcx : 0));
  }
  return code.back();
}
}  // namespace

TEST_CASE("Translator: CLI clears the virtual IF byte inside the cache") {
  // cli; nop; ret
  const GuestCode g{0xffffffff80001000, {0xfa, 0x90, 0xc3}};
  const Translated t = translate(g, g.base);
  REQUIRE(t.frag.callouts.size() == 1);  // the RET's miss, not the CLI's
  CHECK(t.frag.callouts[0].kind == CalloutKind::Return);
  const Instruction e = check_in_cache(t);
  CHECK(e.text().rfind("mov byte ptr [", 0) == 0);
  REQUIRE(e.info.operand_count_visible == 2);
  uint64_t addr = 0;
  REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&e.info, &e.operands[0], e.address, &addr)));
  CHECK(addr == kVirtualIfAddress);
  CHECK(e.operands[1].imm.value.u == 0);
  // Then the NOP, IDENT.
  CHECK(t.frag.insns[1].rewrite == Rewrite::Ident);
  CHECK(t.tc[e.next() - t.frag.tc_address] == 0x90);
}

TEST_CASE("Translator: port I/O that no device answers is emulated inside the cache") {
  const auto open_bus = [](TranslationUnit& u) {
    for (GuestInsn& gi : u.insns) gi.open_bus_io = gi.decoded() && gi.cls.sensitive == SensitiveKind::PortIo;
  };
  // in al, 0x80 / in ax, 0x80 / in eax, 0x80: the accumulator reads all ones
  const std::pair<std::vector<uint8_t>, std::string> ins[] = {
      {{0xe4, 0x80}, "mov al, 0xFF"}, {{0x66, 0xe5, 0x80}, "mov ax, 0xFFFF"}, {{0xe5, 0x80}, "mov eax, 0xFFFFFFFF"}};
  for (const auto& [bytes, emulation] : ins) {
    const GuestCode g{0xffffffff80001000, bytes};
    const Translated t = translate(g, g.base, kTestTc, open_bus);
    CHECK(check_in_cache(t).text() == emulation);
    for (const Callout& c : t.frag.callouts) CHECK(c.kind != CalloutKind::Sensitive);  // the unreadable end's only
  }
  // out 0x80, al: nothing happens, but an instruction retires
  const GuestCode out{0xffffffff80001000, {0xe6, 0x80}};
  CHECK(check_in_cache(translate(out, out.base, kTestTc, open_bus)).text() == "nop");
  // Without the engine's word that nobody answers, I/O is a callout.
  const Translated claimed = translate(out, out.base);
  CHECK(claimed.frag.insns.at(0).rewrite == Rewrite::Callout);
  CHECK(claimed.frag.callouts.at(0).kind == CalloutKind::Sensitive);
}

TEST_CASE("Translator: MOV to and from CR8 run inside the cache, calling out only to fault or deliver") {
  const auto final_instruction = [](const Translated& t) {
    const InsnTranslation& tr = t.frag.insns.at(0);
    Instruction last = decode_tc(t, tr.tc_begin);
    for (uint64_t at = tr.tc_begin; at < tr.tc_begin + tr.tc_length; at = last.next()) last = decode_tc(t, at);
    return last;
  };
  // mov cr8, r9 (44 0f 22 c1... with REX.B: 45 0f 22 c1); mov cr8, rsi (44 0f 22 c6)
  const std::pair<std::vector<uint8_t>, std::string> writes[] = {
      {{0x45, 0x0f, 0x22, 0xc1}, "mov [0xFFFFFFFFFF000001], r9b"}, {{0x44, 0x0f, 0x22, 0xc6}, "mov [0xFFFFFFFFFF000001], sil"}};
  for (const auto& [bytes, store] : writes) {
    const GuestCode g{0xffffffff80001000, bytes};
    const Translated t = translate(g, g.base);
    CAPTURE(store);
    REQUIRE(t.frag.insns.at(0).rewrite == Rewrite::InCache);
    const Instruction last = final_instruction(t);
    CHECK(last.text() == store);
    size_t sensitive_callouts = 0;
    for (const Callout& c : t.frag.callouts) {
      if (c.kind != CalloutKind::Sensitive) continue;
      ++sensitive_callouts;
      CHECK(c.sensitive == SensitiveKind::MovToCr8);
      CHECK(c.resume_tc == 0);
    }
    CHECK(sensitive_callouts == 2);  // reserved bits; an interrupt let through
    // Only the store retires; nothing touches the flags.
    const InsnTranslation& tr = t.frag.insns.at(0);
    for (uint64_t at = tr.tc_begin; at < tr.tc_begin + tr.tc_length;) {
      const Instruction i = decode_tc(t, at);
      const ZydisAccessedFlags* f = i.info.cpu_flags;
      CHECK((f->modified | f->set_0 | f->set_1 | f->undefined) == 0);
      const bool vmm = std::count(t.frag.uncounted.begin(), t.frag.uncounted.end(), at) == 1;
      const bool callout = t.frag.callout_at(at) != nullptr;
      CHECK((vmm || callout) == (at != last.address));
      at = i.next();
    }
  }
  // mov cr8, rcx: RCX is the sequence's scratch register, so a callout.
  const GuestCode rcx{0xffffffff80001000, {0x44, 0x0f, 0x22, 0xc1}};
  CHECK(translate(rcx, rcx.base).frag.insns.at(0).rewrite == Rewrite::Callout);
  // mov r12, cr8 (45 0f 20 c4): the byte, zero-extended into the whole register.
  const GuestCode read{0xffffffff80001000, {0x45, 0x0f, 0x20, 0xc4}};
  CHECK(check_in_cache(translate(read, read.base)).text() == "movzx r12d, byte ptr [0xFFFFFFFFFF000001]");
}

TEST_CASE("Translator: a callout in the middle of a unit resumes in the same fragment") {
  // rdtsc; add rax, rdx; sti; nop
  const GuestCode g{0xffffffff80001000, {0x0f, 0x31, 0x48, 0x01, 0xd0, 0xfb, 0x90}};
  const Translated t = translate(g, g.base);
  CHECK(t.unit.insns.size() == 3);  // STI ends the unit: its interrupt shadow is the VMM's
  REQUIRE(t.frag.callouts.size() == 2);
  const Callout& rdtsc = t.frag.callouts[0];
  CHECK(rdtsc.kind == CalloutKind::Sensitive);
  CHECK(rdtsc.sensitive == K::Rdtsc);
  CHECK(rdtsc.guest_rip == g.base);
  CHECK(rdtsc.guest_length == 2);
  CHECK(rdtsc.next_guest_rip == g.base + 2);
  CHECK(rdtsc.resume_tc == t.frag.insns[1].tc_begin);
  const Callout& sti = t.frag.callouts[1];
  CHECK(sti.sensitive == K::Sti);
  CHECK(sti.resume_tc == 0);
  CHECK(sti.next_guest_rip == g.base + 6);
}
