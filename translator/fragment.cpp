#include "translator/fragment.hpp"

#include <algorithm>

namespace hvsim::bt {
namespace {
constexpr const char* kCalloutNames[] = {
#define HVSIM_CALLOUT_NAME(name, text) #name,
    HVSIM_CALLOUT_KINDS(HVSIM_CALLOUT_NAME)
#undef HVSIM_CALLOUT_NAME
};
constexpr const char* kCalloutTexts[] = {
#define HVSIM_CALLOUT_TEXT(name, text) text,
    HVSIM_CALLOUT_KINDS(HVSIM_CALLOUT_TEXT)
#undef HVSIM_CALLOUT_TEXT
};
constexpr const char* kRewriteNames[] = {
#define HVSIM_REWRITE_NAME(name, text) #name,
    HVSIM_REWRITES(HVSIM_REWRITE_NAME)
#undef HVSIM_REWRITE_NAME
};
constexpr const char* kRewriteTexts[] = {
#define HVSIM_REWRITE_TEXT(name, text) text,
    HVSIM_REWRITES(HVSIM_REWRITE_TEXT)
#undef HVSIM_REWRITE_TEXT
};
template <size_t N, typename E>
const char* lookup(const char* const (&table)[N], E e) {
  auto i = static_cast<size_t>(e);
  return i < N ? table[i] : "?";
}
}  // namespace

const char* callout_kind_name(CalloutKind k) { return lookup(kCalloutNames, k); }
const char* callout_kind_text(CalloutKind k) { return lookup(kCalloutTexts, k); }
const char* rewrite_name(Rewrite r) { return lookup(kRewriteNames, r); }
const char* rewrite_text(Rewrite r) { return lookup(kRewriteTexts, r); }

const char* stub_role_name(StubRole r) {
  switch (r) {
    case StubRole::Jump: return "jump";
    case StubRole::Call: return "call";
    case StubRole::Taken: return "taken";
    case StubRole::FallThrough: return "fall-through";
    case StubRole::Limit: return "instruction limit";
    case StubRole::ReturnPoint: return "return point";
  }
  return "?";
}

const Callout* Fragment::callout_at(uint64_t tc) const {
  for (const auto& c : callouts) {
    if (c.tc_address == tc) return &c;
  }
  return nullptr;
}

const FaultRange* Fragment::fault_range_at(uint64_t tc) const {
  // Ranges are ascending: the last one starting at or before tc is the candidate.
  auto it = std::upper_bound(fault_map.begin(), fault_map.end(), tc,
                             [](uint64_t a, const FaultRange& r) { return a < r.tc_begin; });
  if (it == fault_map.begin()) return nullptr;
  --it;
  return it->contains(tc) ? &*it : nullptr;
}

}  // namespace hvsim::bt
