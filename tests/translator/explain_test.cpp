// explain(): guest instructions beside their translation; the counters.
#include "helpers.hpp"
#include "translator/counters.hpp"
#include "translator/explain.hpp"

using namespace hvsim;
using namespace hvsim::bt;
using namespace hvsim::bt::test;

TEST_CASE("Translator: explain pairs each guest instruction with its translation in words") {
  // mov rax, cr3 (0f 20 d8); mov rbx, [rip+0x10] (48 8b 1d 10 00 00 00); cli (fa); jz +4 (74 04)
  const GuestCode g{0xffffffff80001000,
                    {0x0f, 0x20, 0xd8, 0x48, 0x8b, 0x1d, 0x10, 0x00, 0x00, 0x00, 0xfa, 0x74, 0x04}};
  const Translated t = translate(g, g.base);
  const auto lines = explain(t.unit, t.frag, t.tc);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].guest_text == "mov rax, cr3");
  CHECK(lines[0].rewrite == Rewrite::Callout);
  CHECK(lines[0].why.find("MOV from CR") != std::string::npos);
  REQUIRE(lines[0].translation.size() == 1);
  CHECK(lines[0].translation[0].text.rfind("hlt", 0) == 0);
  CHECK(lines[1].rewrite == Rewrite::RipRelative);
  CHECK(lines[1].translation.at(0).text.rfind("mov rbx, [", 0) == 0);
  CHECK(lines[2].rewrite == Rewrite::InCache);
  CHECK(lines[2].why.find("virtual IF") != std::string::npos);
  CHECK(lines[3].rewrite == Rewrite::CondJump);
  REQUIRE(lines[3].translation.size() == 3);  // jz rel32, fall-through stub, taken stub
  CHECK(lines[3].translation[1].text.find("fall-through") != std::string::npos);
  CHECK(lines[3].translation[2].text.find("taken") != std::string::npos);
  const std::string text = format_explanation(lines);
  CHECK(text.find("ffffffff80001000") != std::string::npos);
  CHECK(text.find("0f 20 d8") != std::string::npos);
  MESSAGE(text);
}

TEST_CASE("Translator: explain shows the limit stub and undecodable bytes") {
  const GuestCode g{0xffffffff80400000, load_asm("straight")};
  const Translated a = translate(g, g.base);
  const auto lines = explain(a.unit, a.frag, a.tc);
  REQUIRE(lines.size() == kMaxUnitInstructions + 1);
  CHECK(lines.back().guest_rip == a.unit.next_guest_rip);
  CHECK(lines.back().translation.at(0).text.find("instruction limit") != std::string::npos);
  for (size_t i = 0; i < kMaxUnitInstructions; ++i) CHECK(lines[i].rewrite == Rewrite::Ident);

  const GuestCode bad{0xffffffff80001000, {0x48, 0x8b}};
  const Translated b = translate(bad, bad.base);
  const auto bl = explain(b.unit, b.frag, b.tc);
  REQUIRE(bl.size() == 1);
  CHECK(bl[0].guest_text.find("undecodable") != std::string::npos);
  CHECK(bl[0].guest_bytes.size() == 2);
}

TEST_CASE("Translator: counters add up per fragment") {
  // rdtsc; mov rbx, [rip+0x10]; cli; nop; call +0x100
  const GuestCode g{0xffffffff80001000, {0x0f, 0x31, 0x48, 0x8b, 0x1d, 0x10, 0x00, 0x00, 0x00, 0xfa,
                                         0x90, 0xe8, 0x00, 0x01, 0x00, 0x00}};
  const Translated t = translate(g, g.base);
  TranslatorCounters c;
  count_fragment(t.unit, t.frag, c);
  count_fragment(t.unit, t.frag, c);
  CHECK(c.fragments == 2);
  CHECK(c.guest_instructions == 10);
  CHECK(c.ident == 2);
  CHECK(c.rip_relative == 2);
  CHECK(c.in_cache == 2);
  CHECK(c.direct_branches == 2);
  CHECK(c.exit_stubs == 4);  // the call's stub and its return point, twice
  CHECK(c.callouts == 6);    // rdtsc and the call's two stubs, twice
  CHECK(c.callouts_by_kind[static_cast<size_t>(CalloutKind::Sensitive)] == 2);
  CHECK(c.callouts_by_kind[static_cast<size_t>(CalloutKind::ExitToGuest)] == 4);
  CHECK(c.sensitive_by_kind[static_cast<size_t>(SensitiveKind::Rdtsc)] == 2);
  CHECK(c.sensitive_by_kind[static_cast<size_t>(SensitiveKind::Cli)] == 2);
  CHECK(c.fragment_bytes == 2 * t.frag.size);
}
