#pragma once
// Chaining: once a direct branch's target has a fragment, the exit stub's callout is
// overwritten with a `jmp rel32` to it, so the branch no longer leaves the cache; unchaining
// (when the target fragment is invalidated) puts the callout back.
#include <array>
#include <cstdint>
#include <span>

#include "core/util/result.hpp"
#include "translator/fragment.hpp"

namespace hvsim::bt {

using StubBytes = std::array<uint8_t, kExitStubSize>;

// The bytes to write at stub.tc_address so that it jumps to target_tc. Error when the
// target is beyond rel32 reach (never inside the 16 MiB window).
Result<StubBytes> patch_chain(const ExitStub& stub, uint64_t target_tc);

// The stub's original bytes: the ExitToGuest callout.
StubBytes unchain(const ExitStub& stub);

// Whether stub bytes currently hold a chained jump (and where to, when `target` is given).
bool is_chained(std::span<const uint8_t, kExitStubSize> bytes, uint64_t stub_tc,
                uint64_t* target = nullptr);

}  // namespace hvsim::bt
