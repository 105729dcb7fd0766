// Translation units: splitting, reading guest memory, undecodable input.
#include "helpers.hpp"

using namespace hvsim;
using namespace hvsim::bt;
using namespace hvsim::bt::test;

TEST_CASE("Translator: a unit stops at 12 instructions and the next one continues there") {
  const GuestCode g{0xffffffff80400000, load_asm("straight")};  // 20 innocuous, then ret
  const Translated a = translate(g, g.base);
  CHECK(a.unit.insns.size() == kMaxUnitInstructions);
  CHECK(a.unit.end == UnitEnd::InstructionLimit);
  REQUIRE(a.frag.stubs.size() == 1);
  CHECK(a.frag.stubs[0].role == StubRole::Limit);
  CHECK(a.frag.stubs[0].guest_target == a.unit.next_guest_rip);
  CHECK(a.frag.stubs[0].tc_address == a.frag.tc_address + a.frag.size - kExitStubSize);

  const Translated b = translate(g, a.unit.next_guest_rip);
  CHECK(b.unit.insns.size() == 9);
  CHECK(b.unit.end == UnitEnd::EndsUnit);
  CHECK(b.unit.insns.back().insn->mnemonic() == ZYDIS_MNEMONIC_RET);
  CHECK(b.unit.guest_end == g.end());
  CHECK(b.frag.stubs.empty());
}

TEST_CASE("Translator: every control transfer ends the unit") {
  const GuestCode g{0xffffffff80200000, load_asm("transfers")};
  const size_t slots = g.bytes.size() / 16;
  CHECK(slots == 26);
  for (size_t i = 0; i < slots; ++i) {
    const uint64_t rip = g.base + 16 * i;
    const Translated t = translate(g, rip);
    CAPTURE(t.unit.insns.back().insn->text());
    CHECK(t.unit.insns.size() == 2);
    CHECK(t.unit.insns[0].insn->mnemonic() == ZYDIS_MNEMONIC_NOP);
    CHECK(t.unit.end == UnitEnd::EndsUnit);
    CHECK(t.unit.insns.back().cls.ends_unit);
    CHECK(t.frag.insns[0].rewrite == Rewrite::Ident);
    // Nothing falls through to the NOP of the next slot: no limit stub.
    for (const auto& s : t.frag.stubs) CHECK(s.role != StubRole::Limit);
  }
}

TEST_CASE("Translator: invalid bytes become an Undecodable callout at their guest rip") {
  // nop; into (0xCE: #UD in 64-bit mode); nop
  const GuestCode g{0xffffffff80001000, {0x90, 0xce, 0x90}};
  const Translated t = translate(g, g.base);
  REQUIRE(t.unit.insns.size() == 2);
  CHECK(t.unit.end == UnitEnd::Undecodable);
  CHECK_FALSE(t.unit.insns[1].decoded());
  CHECK(t.unit.insns[1].bytes_read == 2);
  REQUIRE(t.frag.callouts.size() == 1);
  const Callout& c = t.frag.callouts[0];
  CHECK(c.kind == CalloutKind::Undecodable);
  CHECK(c.guest_rip == g.base + 1);
  CHECK(c.resume_tc == 0);
  CHECK(t.frag.fault_range_at(c.tc_address)->guest_rip == g.base + 1);
}

TEST_CASE("Translator: an instruction cut off by the end of readable memory is Undecodable") {
  // mov rax, [rbx+0x12345678] is 48 8b 83 78 56 34 12; only its first 4 bytes are readable.
  const GuestCode g{0xffffffff80001000, {0x90, 0x48, 0x8b, 0x83, 0x78}};
  const Translated t = translate(g, g.base);
  REQUIRE(t.unit.insns.size() == 2);
  CHECK(t.unit.end == UnitEnd::Undecodable);
  CHECK(t.unit.insns[1].bytes_read == 4);
  CHECK(t.unit.guest_end == g.base + 1 + 4);
  CHECK(t.frag.callouts.at(0).kind == CalloutKind::Undecodable);
}

TEST_CASE("Translator: a reader that returns nothing gives one Undecodable callout") {
  const GuestCodeReader nothing = [](uint64_t, std::span<uint8_t>) -> size_t { return 0; };
  for (const GuestCodeReader& r : {nothing, GuestCodeReader{}}) {
    const Translated t = translate(r, 0xffffffff80001000);
    REQUIRE(t.unit.insns.size() == 1);
    CHECK(t.unit.insns[0].bytes_read == 0);
    CHECK(t.unit.end == UnitEnd::Undecodable);
    CHECK(t.frag.size == 1);
    CHECK(t.frag.callouts.at(0).kind == CalloutKind::Undecodable);
    CHECK(t.unit.guest_end == 0xffffffff80001001);  // the page at rip is covered
  }
}

TEST_CASE("Translator: reader answers are bounded: over-long answers are clamped, short ones retried") {
  // A reader claiming more bytes than asked for: the translator uses at most what it asked.
  const GuestCode g{0xffffffff80001000, load_asm("straight")};
  const GuestCodeReader liar = [&](uint64_t va, std::span<uint8_t> out) -> size_t {
    g.reader()(va, out);
    return out.size() + 1000;
  };
  const Translated a = translate(liar, g.base);
  CHECK(a.unit.insns.size() == kMaxUnitInstructions);

  // A reader giving one byte per call (as at every page boundary): whole instructions still.
  const GuestCodeReader trickle = [&](uint64_t va, std::span<uint8_t> out) -> size_t {
    return g.reader()(va, out.first(std::min<size_t>(1, out.size())));
  };
  const Translated b = translate(trickle, g.base);
  REQUIRE(b.unit.insns.size() == a.unit.insns.size());
  CHECK(b.tc == a.tc);

  // Code at the very top of the address space: no read crosses 2^64.
  const GuestCodeReader top = [](uint64_t va, std::span<uint8_t> out) -> size_t {
    if (va < 0xfffffffffffffffe) return 0;
    std::fill(out.begin(), out.end(), 0x90);
    return std::min<size_t>(out.size(), 0 - va);
  };
  const TranslationUnit u = build_unit(top, 0xfffffffffffffffe);
  REQUIRE(u.insns.size() == 3);  // nop, nop, then nothing readable at 0
  CHECK(u.insns[1].bytes_read == 1);
  CHECK(u.end == UnitEnd::Undecodable);
}

TEST_CASE("Translator: random bytes never break the translator's invariants") {
  // A fixed-seed xorshift: arbitrary guest bytes, arbitrary readable lengths. Every unit
  // must emit a well-formed fragment (check_invariants) within kMaxFragmentSize.
  uint64_t s = 0x9e3779b97f4a7c15ull;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  size_t callouts = 0, stubs = 0;
  for (int i = 0; i < 3000; ++i) {
    GuestCode g{0xffffffff80000000 + (next() & 0xffffff), {}};
    g.bytes.resize(next() % 200);
    for (auto& b : g.bytes) b = static_cast<uint8_t>(next());
    const Translated t = translate(g, g.base);
    CHECK(t.unit.insns.size() <= kMaxUnitInstructions);
    callouts += t.frag.callouts.size();
    stubs += t.frag.stubs.size();
  }
  CHECK(callouts > 0);
  CHECK(stubs > 0);
}
