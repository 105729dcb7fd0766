#include "gui/walk_layout.hpp"

#include "core/mem/entry_text.hpp"

#include <cstdio>

namespace hvsim::gui {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

WalkRef guest_ref(const WalkStep& s, RefState state) {
  return WalkRef{s.level, s.entry_gpa, s.entry, guest_entry_rights(s.entry), state};
}

// The guest's entries; the last one read is where the walk stopped when it failed.
std::vector<WalkRef> guest_refs(const WalkResult& w) {
  std::vector<WalkRef> refs;
  for (int i = 0; i < w.step_count; ++i) {
    const bool stopped_here = !w.ok && !w.unbacked_table && i == w.step_count - 1;
    refs.push_back(guest_ref(w.steps[i], stopped_here ? RefState::Failed : RefState::Used));
  }
  return refs;
}

void fill_ept(WalkRow& row, const EptWalk& e) {
  for (int k = 0; k < e.step_count && k < 4; ++k) {
    const bool stopped_here = e.outcome != EptOutcome::Ok && k == e.step_count - 1;
    row.ept[k] = WalkRef{e.steps[k].level, e.steps[k].entry_mpa, e.steps[k].entry, ept_entry_rights(e.steps[k].entry),
                         stopped_here ? RefState::Failed : RefState::Used};
  }
}

std::string guest_outcome(const WalkResult& w) {
  if (w.non_canonical) return "non-canonical address: #GP(0)";
  if (w.unbacked_table) return "the guest's page walk reached a table at " + hex(w.unbacked_entry_gpa) + ", where nothing is";
  if (!w.ok) return "page fault, error code " + hex(w.pf_error_code);
  return "guest-physical " + hex(w.gpa) + " (" + std::to_string(w.page_size >> 10) + " KiB page)";
}

void take_guest_result(WalkLayout& l, const WalkResult& w) {
  l.ok = w.ok;
  l.gpa = w.gpa;
  l.page_size = w.page_size;
  l.can_read = w.can_read;
  l.can_write = w.can_write;
  l.can_exec = w.can_exec;
  l.outcome = guest_outcome(w);
  if (!w.ok && !w.non_canonical) l.failure = "a page fault the guest sees (#PF)";
  if (w.non_canonical) l.failure = "#GP: the address is not canonical";
}

}  // namespace

const char* table_name(int level) { return paging_level_name(level); }

unsigned WalkLayout::drawn_references() const {
  unsigned n = 0;
  for (const WalkRow& r : rows) {
    for (const WalkRef& e : r.ept) n += e.state != RefState::Unused;
    n += r.guest.state != RefState::Unused;
  }
  for (const WalkRef& s : shadow) n += s.state != RefState::Unused;
  return n;
}

WalkLayout layout_native(const WalkResult& w, const P2m& p2m, const WalkQuery& q) {
  WalkLayout l;
  l.valid = true;
  l.mode = PagingMode::Native;
  l.query = q;
  for (const WalkRef& ref : guest_refs(w)) {
    WalkRow row;
    row.title = std::string("guest ") + table_name(ref.level) + " entry";
    row.gpa = ref.entry_address;
    row.guest = ref;
    l.rows.push_back(row);
  }
  take_guest_result(l, w);
  if (w.ok) {
    if (auto mpa = p2m.machine_address(w.gpa)) {
      l.mpa = *mpa;
      l.has_mpa = true;
    } else {
      l.ok = false;
      l.failure = "nothing backs guest-physical " + hex(w.gpa) + ": an isolation event, then the empty bus";
    }
  }
  l.references = static_cast<unsigned>(w.step_count);
  return l;
}

WalkLayout layout_ept(const EptTranslation& t, const WalkQuery& q) {
  WalkLayout l;
  l.valid = true;
  l.mode = PagingMode::Ept;
  l.query = q;
  std::vector<WalkRef> guest = guest_refs(t.guest);
  for (size_t i = 0; i < guest.size() && i < 4; ++i) {
    WalkRow row;
    row.title = std::string("guest ") + table_name(guest[i].level) + " entry";
    row.gpa = guest[i].entry_address;
    fill_ept(row, t.guest_tables[i]);
    row.guest = guest[i];
    l.rows.push_back(row);
  }
  if (t.ept_failed_in_table && guest.size() < 4) {
    // The EPT refused the guest-physical address of the next guest entry: it was never read.
    WalkRow row;
    row.title = std::string("guest ") + table_name(4 - static_cast<int>(guest.size())) + " entry";
    row.gpa = t.failed_gpa;
    fill_ept(row, t.guest_tables[guest.size()]);
    l.rows.push_back(row);
  }
  take_guest_result(l, t.guest);
  if (t.guest.ok) {
    WalkRow row;
    row.title = "final address";
    row.gpa = t.guest.gpa;
    row.final_row = true;
    fill_ept(row, t.final);
    l.rows.push_back(row);
  }
  if (t.ept_failed) {
    const bool misconfig = t.failed.outcome == EptOutcome::Misconfig;
    l.ok = false;
    l.failure = std::string(misconfig ? "EPT misconfiguration" : "EPT violation") + " at guest-physical " +
                hex(t.failed_gpa) + " (exit reason " +
                std::to_string(misconfig ? ept::kExitEptMisconfig : ept::kExitEptViolation) + ")";
  } else if (t.guest.ok) {
    l.mpa = t.mpa;
    l.has_mpa = true;
  }
  l.references = t.references;
  return l;
}

WalkLayout layout_shadow(const ShadowTranslation& t, const WalkQuery& q) {
  WalkLayout l;
  l.valid = true;
  l.mode = PagingMode::Shadow;
  l.query = q;
  for (int i = 0; i < t.shadow.step_count; ++i) {
    const bool stopped_here = !t.shadow.ok && i == t.shadow.step_count - 1;
    l.shadow.push_back(guest_ref(t.shadow.steps[i], stopped_here ? RefState::Failed : RefState::Used));
  }
  l.shadow_hit = t.shadow_hit;
  for (const WalkRef& ref : guest_refs(t.guest)) {
    WalkRow row;
    row.title = std::string("guest ") + table_name(ref.level) + " entry";
    row.gpa = ref.entry_address;
    row.guest = ref;
    l.rows.push_back(row);
  }
  take_guest_result(l, t.guest);
  if (t.guest.ok && t.mpa) {
    l.mpa = t.mpa;
    l.has_mpa = true;
  }
  if (t.guest.ok && !t.shadow_hit) {
    l.note = "shadow miss: a hidden page fault; the VMM walks the guest's tables and builds the shadow entry";
  } else if (!t.guest.ok && !t.guest.non_canonical) {
    l.failure = "a true page fault: the guest's own tables refuse it, so the VMM reflects the #PF";
  }
  l.references = static_cast<unsigned>(t.shadow.step_count) + (t.shadow_hit ? 0 : static_cast<unsigned>(t.guest.step_count));
  return l;
}

}  // namespace hvsim::gui
