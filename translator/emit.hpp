#pragma once
// Emits a translation unit's fragment at a chosen TC address (docs/binary-translation.md).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/result.hpp"
#include "translator/fragment.hpp"
#include "translator/unit.hpp"

namespace hvsim::bt {

// No fragment is larger: at most 11 IDENT instructions (15 bytes each) before the longest
// unit-ending rewrite (an indirect call's in-cache lookup, about 130 bytes, and its
// return-point stub), or 12 IDENT instructions and a 5-byte limit stub.
constexpr size_t kMaxFragmentSize = 384;

// Writes the fragment into out[0, size) for execution at tc_address, which must lie in the
// TC window's fragment area (vmm_layout.hpp) together with the whole fragment. Errors: the
// unit is empty, the address is outside the fragment area, or `out` is too small.
Result<Fragment> emit_fragment(const TranslationUnit& unit, uint64_t tc_address,
                               std::span<uint8_t> out);

}  // namespace hvsim::bt
