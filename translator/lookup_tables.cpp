#include "translator/lookup_tables.hpp"

#include <algorithm>
#include <cstring>

namespace hvsim::bt {

LookupTables::LookupTables(uint8_t* window) : window_(window) {
  for (auto& o : owners_) o.assign(kLookupEntries, 0);
  clear();
}

uint64_t* LookupTables::keys(LookupTable t) const {
  return reinterpret_cast<uint64_t*>(window_ + (lookup_keys(t) - kTcWindowBase));
}

uint64_t* LookupTables::tcs(LookupTable t) const {
  return reinterpret_cast<uint64_t*>(window_ + (lookup_tcs(t) - kTcWindowBase));
}

void LookupTables::clear() {
  for (LookupTable t : {LookupTable::Hash, LookupTable::ReturnCache}) {
    uint64_t* k = keys(t);
    for (uint64_t i = 0; i < kLookupEntries; ++i) k[i] = lookup_empty_key(i);
    std::memset(tcs(t), 0, 8 * kLookupEntries);
    std::fill(owners_[table_index(t)].begin(), owners_[table_index(t)].end(), 0);
  }
}

void LookupTables::enter(LookupTable t, uint64_t guest_rip, uint64_t tc, uint64_t owner) {
  const uint64_t i = lookup_index(guest_rip);
  keys(t)[i] = guest_rip;
  tcs(t)[i] = tc;
  owners_[table_index(t)][i] = owner;
}

void LookupTables::forget(LookupTable t, uint64_t guest_rip, uint64_t owner) {
  const uint64_t i = lookup_index(guest_rip);
  if (owners_[table_index(t)][i] != owner || keys(t)[i] != guest_rip) return;
  keys(t)[i] = lookup_empty_key(i);
  tcs(t)[i] = 0;
  owners_[table_index(t)][i] = 0;
}

uint64_t LookupTables::hits(LookupTable t) const {
  uint64_t n = 0;
  std::memcpy(&n, window_ + (t == LookupTable::Hash ? vmm_data::kHashHits : vmm_data::kReturnCacheHits), 8);
  return n;
}

}  // namespace hvsim::bt
