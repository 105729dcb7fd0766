#include "translator/counters.hpp"

namespace hvsim::bt {

void count_fragment(const TranslationUnit& unit, const Fragment& fragment, TranslatorCounters& c) {
  ++c.fragments;
  c.fragment_bytes += fragment.size;
  c.exit_stubs += fragment.stubs.size();
  for (const auto& t : fragment.insns) {
    ++c.guest_instructions;
    switch (t.rewrite) {
      case Rewrite::Ident: ++c.ident; break;
      case Rewrite::RipRelative: ++c.rip_relative; break;
      case Rewrite::InCache: ++c.in_cache; break;
      case Rewrite::Jump:
      case Rewrite::CondJump:
      case Rewrite::Loop:
      case Rewrite::Call: ++c.direct_branches; break;
      case Rewrite::Lookup: ++c.lookups; break;
      case Rewrite::Callout:
      case Rewrite::Count: break;
    }
  }
  for (const auto& co : fragment.callouts) {
    ++c.callouts;
    ++c.callouts_by_kind[static_cast<size_t>(co.kind)];
  }
  for (const auto& gi : unit.insns) {
    if (gi.decoded() && gi.cls.cls == InsnClass::Sensitive) {
      ++c.sensitive_by_kind[static_cast<size_t>(gi.cls.sensitive)];
    }
  }
}

}  // namespace hvsim::bt
