#pragma once
// Byte offsets inside a Unicorn 2.1 uc_context (an image of QEMU's CPUX86State) that the
// adapter must patch: Unicorn has no API to change the CPL, set a segment's hidden part, read
// a fault's error code or reset the exception latch (Unicorn issue #1883). They are internals
// of one library build, so they are found by probing a scratch CPU and verified by behaviour
// before any guest runs (unicorn_internals.cpp).
#include <cstddef>

#include "core/util/result.hpp"

namespace hvsim {

struct UnicornInternals {
  size_t context_size = 0;
  size_t hflags = 0;         // u32: CPL in bits 0-1
  size_t segments = 0;       // 6 x {u32 selector, pad, u64 base, u32 limit, u32 flags}: ES CS SS DS FS GS
  size_t error_code = 0;     // i32: error code of the last exception
  size_t old_exception = 0;  // i32: the latch; -1 when no exception is in flight
  size_t tables = 0;         // LDTR, TR, GDTR, IDTR caches (same layout), after the segments
  size_t gprs = 0;           // 16 x u64 in SDM encoding order (RAX, RCX, ...), then RIP
  size_t rip = 0;
  size_t cr2 = 0;            // u64: uc_reg_write(CR2) also loads CR3 with the value (a bug)
};

// Probed once per process; later calls return the same answer.
const Result<UnicornInternals>& unicorn_internals();

// QEMU hflags bits the adapter maintains (target/i386/cpu.h).
namespace qemu_hflags {
constexpr unsigned kCplMask = 3;
constexpr unsigned kInhibitIrq = 1u << 3;
constexpr unsigned kCs32 = 1u << 4, kSs32 = 1u << 5, kLma = 1u << 14, kCs64 = 1u << 15;
}  // namespace qemu_hflags

}  // namespace hvsim
