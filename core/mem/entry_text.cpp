#include "core/mem/entry_text.hpp"

#include "core/mem/ept.hpp"

namespace hvsim {

std::string guest_entry_rights(uint64_t e) {
  std::string s = (e & 1) ? "P" : "not present";
  if (!(e & 1)) return s;
  s += (e & 2) ? " RW" : " RO";
  s += (e & 4) ? " US" : " S";
  if (e & (1ull << 5)) s += " A";
  if (e & (1ull << 6)) s += " D";
  if (e & (1ull << 7)) s += " PS";
  if (e & (1ull << 63)) s += " XD";
  return s;
}

std::string ept_entry_rights(uint64_t e) {
  if (!(e & (ept::R | ept::W | ept::X))) return "not present";
  std::string s;
  s += (e & ept::R) ? 'R' : '-';
  s += (e & ept::W) ? 'W' : '-';
  s += (e & ept::X) ? 'X' : '-';
  if (e & ept::PAGE) s += " page";
  if (e & ept::A) s += " A";
  if (e & ept::D) s += " D";
  return s;
}

const char* paging_level_name(int level) {
  switch (level) {
    case 4: return "PML4";
    case 3: return "PDPT";
    case 2: return "PD";
    case 1: return "PT";
    default: return "?";
  }
}

}  // namespace hvsim
