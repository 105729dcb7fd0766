#pragma once
// Shared by the translator tests: guest code in a byte vector, translation into a scratch
// TC buffer, and the invariants every fragment must satisfy.
#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "translator/chain.hpp"
#include "translator/emit.hpp"
#include "translator/unit.hpp"
#include "translator/vmm_layout.hpp"

namespace hvsim::bt::test {

inline std::vector<uint8_t> load_asm(const std::string& name) {
  const std::string path = std::string(HVSIM_TRANSLATOR_ASM_DIR) + "/" + name + ".bin";
  std::vector<uint8_t> bytes;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    uint8_t buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
    std::fclose(f);
  }
  REQUIRE_MESSAGE(!bytes.empty(), "missing " << path);
  return bytes;
}

// Guest code at `base`; nothing readable outside it.
struct GuestCode {
  uint64_t base = 0;
  std::vector<uint8_t> bytes;

  GuestCodeReader reader() const {
    return [this](uint64_t va, std::span<uint8_t> out) -> size_t {
      if (va < base || va - base >= bytes.size()) return 0;
      const size_t n = std::min<size_t>(out.size(), bytes.size() - (va - base));
      std::copy_n(bytes.begin() + (va - base), n, out.begin());
      return n;
    };
  }
  uint64_t end() const { return base + bytes.size(); }
};

constexpr uint64_t kTestTc = kTcFragmentsBase + 0x2340;

struct Translated {
  TranslationUnit unit;
  Fragment frag;
  std::vector<uint8_t> tc;  // the fragment's bytes
};

inline void check_invariants(const Translated& t) {
  const Fragment& f = t.frag;
  REQUIRE(f.size == t.tc.size());
  // The fault map tiles the fragment: ascending, contiguous, every byte covered once.
  uint64_t at = f.tc_address;
  for (const auto& r : f.fault_map) {
    CHECK(r.tc_begin == at);
    CHECK(r.length > 0);
    at += r.length;
  }
  CHECK(at == f.tc_address + f.size);
  for (uint64_t tc = f.tc_address; tc < f.tc_address + f.size; ++tc) {
    REQUIRE(f.fault_range_at(tc) != nullptr);
  }
  CHECK(f.fault_range_at(f.tc_address + f.size) == nullptr);
  // Every callout is a HLT in the fragment, every stub an unchained callout.
  for (const auto& c : f.callouts) {
    REQUIRE(c.tc_address >= f.tc_address);
    REQUIRE(c.tc_address < f.tc_address + f.size);
    CHECK(t.tc[c.tc_address - f.tc_address] == kCalloutOpcode);
    if (c.resume_tc) CHECK(c.resume_tc == c.tc_address + 1);
  }
  for (const auto& s : f.stubs) {
    const size_t off = s.tc_address - f.tc_address;
    REQUIRE(off + kExitStubSize <= f.size);
    const StubBytes orig = unchain(s);
    CHECK(std::equal(orig.begin(), orig.end(), t.tc.begin() + off));
    REQUIRE(s.callout_index < f.callouts.size());
    CHECK(f.callouts[s.callout_index].tc_address == s.tc_address);
    CHECK(f.callouts[s.callout_index].kind == CalloutKind::ExitToGuest);
  }
  // Each guest instruction's translation follows the previous one.
  REQUIRE(f.insns.size() == t.unit.insns.size());
  at = f.tc_address;
  for (size_t i = 0; i < f.insns.size(); ++i) {
    CHECK(f.insns[i].guest_rip == t.unit.insns[i].guest_rip);
    CHECK(f.insns[i].tc_begin == at);
    at += f.insns[i].tc_length;
  }
  CHECK(f.size <= kMaxFragmentSize);
}

// `prepare` marks what the engine knows beyond the bytes (adapted stores, open-bus ports).
inline Translated translate(const GuestCodeReader& read, uint64_t rip, uint64_t tc = kTestTc,
                            const std::function<void(TranslationUnit&)>& prepare = {}) {
  Translated t;
  t.unit = build_unit(read, rip);
  if (prepare) prepare(t.unit);
  std::vector<uint8_t> buf(kMaxFragmentSize, 0xee);
  auto r = emit_fragment(t.unit, tc, buf);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  t.frag = r.value();
  t.tc.assign(buf.begin(), buf.begin() + t.frag.size);
  check_invariants(t);
  return t;
}

inline Translated translate(const GuestCode& g, uint64_t rip, uint64_t tc = kTestTc,
                            const std::function<void(TranslationUnit&)>& prepare = {}) {
  return translate(g.reader(), rip, tc, prepare);
}

// Decodes the emitted instruction at a TC address.
inline Instruction decode_tc(const Translated& t, uint64_t tc) {
  const size_t off = tc - t.frag.tc_address;
  REQUIRE(off < t.tc.size());
  auto insn = decode_instruction(t.tc.data() + off, t.tc.size() - off, tc);
  REQUIRE(insn.has_value());
  return *insn;
}

}  // namespace hvsim::bt::test
