#pragma once
// Paging-structure entries in words, for `hvsim walk` and the visualizer alike.
#include <cstdint>
#include <string>

namespace hvsim {

std::string guest_entry_rights(uint64_t entry);  // "P RW US A D PS XD", or "not present"
std::string ept_entry_rights(uint64_t entry);    // "RWX page A D", or "not present"
const char* paging_level_name(int level);        // 4 "PML4" ... 1 "PT"

}  // namespace hvsim
