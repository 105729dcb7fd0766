// Chaining exit stubs to their targets' fragments, and unchaining them again.
#include <cstring>

#include "helpers.hpp"
#include "translator/explain.hpp"

using namespace hvsim;
using namespace hvsim::bt;
using namespace hvsim::bt::test;

TEST_CASE("Translator: chaining patches a stub into jmp rel32 and unchaining restores the callout") {
  // jz +0x40 (74 40)
  const GuestCode g{0xffffffff80001000, {0x74, 0x40}};
  Translated t = translate(g, g.base);
  const std::vector<uint8_t> original = t.tc;
  REQUIRE(t.frag.stubs.size() == 2);
  const uint64_t targets[] = {kTcFragmentsBase, kTestTc + 0x10000, kTcWindowBase + kTcWindowSize - 64};
  for (const ExitStub& s : t.frag.stubs) {
    for (const uint64_t target : targets) {
      auto bytes = patch_chain(s, target);
      REQUIRE(bytes.ok());
      const size_t off = s.tc_address - t.frag.tc_address;
      std::memcpy(t.tc.data() + off, bytes->data(), kExitStubSize);
      const Instruction j = decode_tc(t, s.tc_address);
      CHECK(j.mnemonic() == ZYDIS_MNEMONIC_JMP);
      CHECK(j.length() == kExitStubSize);
      uint64_t dest = 0;
      REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&j.info, &j.operands[0], j.address, &dest)));
      CHECK(dest == target);
      uint64_t seen = 0;
      CHECK(is_chained(std::span<const uint8_t, kExitStubSize>(t.tc.data() + off, kExitStubSize), s.tc_address, &seen));
      CHECK(seen == target);
      const std::string listing = format_explanation(explain(t.unit, t.frag, t.tc));
      CHECK(listing.find("chained") != std::string::npos);

      const StubBytes back = unchain(s);
      std::memcpy(t.tc.data() + off, back.data(), kExitStubSize);
      CHECK_FALSE(is_chained(std::span<const uint8_t, kExitStubSize>(t.tc.data() + off, kExitStubSize), s.tc_address));
      CHECK(t.tc == original);
    }
  }
}

TEST_CASE("Translator: a chain target beyond rel32 reach is refused") {
  const GuestCode g{0xffffffff80001000, {0xeb, 0x10}};
  const Translated t = translate(g, g.base);
  CHECK_FALSE(patch_chain(t.frag.stubs.at(0), 0x0000400000000000).ok());
  CHECK(patch_chain(t.frag.stubs.at(0), 0x1000).ok());  // the bottom is near, modulo 2^64
}
