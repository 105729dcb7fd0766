#pragma once
// The tables of the in-cache indirect-branch lookup (emit.cpp, vmm_layout.hpp), kept by the
// VMM in the translation cache's memory: what translated code finds there is always a live
// fragment (or a return-point stub) for exactly that guest RIP. The engine enters a call's
// return point when it translates the call, and a target after each miss; it forgets every
// entry that leads into a fragment when it drops the fragment, and everything on a flush.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "translator/vmm_layout.hpp"

namespace hvsim::bt {

class LookupTables {
 public:
  // `window`: the host memory of the TC window (kTcWindowBase maps to window[0]).
  explicit LookupTables(uint8_t* window);
  void clear();
  // guest_rip now leads to `tc`, which lies in the fragment at `owner`.
  void enter(LookupTable t, uint64_t guest_rip, uint64_t tc, uint64_t owner);
  // Empties guest_rip's slot if what it holds lies in the fragment at `owner`.
  void forget(LookupTable t, uint64_t guest_rip, uint64_t owner);
  // Lookups that found their target, counted by translated code.
  uint64_t hits(LookupTable t) const;

 private:
  static std::size_t table_index(LookupTable t) { return t == LookupTable::Hash ? 0 : 1; }
  uint64_t* keys(LookupTable t) const;
  uint64_t* tcs(LookupTable t) const;
  uint8_t* window_;
  std::array<std::vector<uint64_t>, 2> owners_;  // per slot: the fragment its TC lies in
};

}  // namespace hvsim::bt
