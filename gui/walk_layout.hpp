#pragma once
// An address translation laid out for drawing: the guest's walk as rows (one per guest
// paging-structure entry), and under EPT the grid of the two-dimensional walk (each row's
// guest-physical address through the EPT, then the entry itself; a last row for the final
// address: up to 4 x 5 + 4 = 24 references), or under shadow paging the shadow walk the MMU
// makes beside the guest walk the VMM makes on a miss. Built from the MMUs' side-effect-free
// records (EptTranslation, ShadowTranslation, WalkResult), so it is what the MMU would do now.
#include <array>
#include <cstdint>
#include <string>

#include "core/mem/entry_text.hpp"
#include <vector>

#include "core/mem/ept_paging.hpp"
#include "core/mem/paging_mode.hpp"
#include "core/mem/shadow_paging.hpp"

namespace hvsim::gui {

enum class RefState : uint8_t { Unused, Used, Failed };

// One paging-structure entry a walk read (or would have read).
struct WalkRef {
  int level = 0;               // 4 = PML4 ... 1 = PT
  uint64_t entry_address = 0;  // guest-physical for guest entries, machine for EPT/shadow entries
  uint64_t entry = 0;
  std::string rights;          // "P RW US A D", "RWX A"
  RefState state = RefState::Unused;
};

struct WalkRow {
  std::string title;           // "guest PML4 entry", "final address"
  uint64_t gpa = 0;            // what this row's EPT walk translates
  std::array<WalkRef, 4> ept{};
  WalkRef guest;               // Unused in the final row
  bool final_row = false;
};

struct WalkQuery {
  uint64_t va = 0;
  Access access = Access::Read;
  unsigned cpl = 0;
};

struct WalkLayout {
  bool valid = false;          // false until a walk was captured
  PagingMode mode = PagingMode::Native;
  WalkQuery query;
  uint64_t cr3 = 0;
  std::vector<WalkRow> rows;
  std::vector<WalkRef> shadow;  // shadow paging: the walk of the VMM's tables
  bool shadow_hit = false;
  bool ok = false;             // the access is allowed and reaches memory
  uint64_t gpa = 0, mpa = 0, page_size = 0;
  bool has_mpa = false;
  bool can_read = false, can_write = false, can_exec = false;
  std::string outcome;         // one line in words
  std::string failure;         // EPT violation / misconfiguration / page fault, in words
  std::string note;            // what the VMM does on the way (a shadow miss)
  unsigned references = 0;     // as the MMU counts them
  std::string mpa_owner;       // filled by the caller, which knows the machine

  // References drawn (used or failed): the 24 of the textbook EPT walk.
  unsigned drawn_references() const;
};

const char* table_name(int level);                 // "PML4", "PDPT", "PD", "PT"

WalkLayout layout_native(const WalkResult& walk, const P2m& p2m, const WalkQuery& q);
WalkLayout layout_ept(const EptTranslation& t, const WalkQuery& q);
WalkLayout layout_shadow(const ShadowTranslation& t, const WalkQuery& q);

}  // namespace hvsim::gui
