#include "translator/chain.hpp"

#include <cstdint>

namespace hvsim::bt {

Result<StubBytes> patch_chain(const ExitStub& stub, uint64_t target_tc) {
  const int64_t d = static_cast<int64_t>(target_tc - (stub.tc_address + kExitStubSize));
  if (d < INT32_MIN || d > INT32_MAX) return make_error("chain target beyond rel32 reach");
  const auto v = static_cast<uint32_t>(d);
  return StubBytes{0xe9, uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}

StubBytes unchain(const ExitStub&) {
  return StubBytes{kCalloutOpcode, kStubPadding, kStubPadding, kStubPadding, kStubPadding};
}

bool is_chained(std::span<const uint8_t, kExitStubSize> b, uint64_t stub_tc, uint64_t* target) {
  if (b[0] != 0xe9) return false;
  if (target) {
    const uint32_t v = uint32_t(b[1]) | uint32_t(b[2]) << 8 | uint32_t(b[3]) << 16 | uint32_t(b[4]) << 24;
    *target = stub_tc + kExitStubSize + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
  }
  return true;
}

}  // namespace hvsim::bt
