#include <doctest/doctest.h>

#include "gui/walk_layout.hpp"

using namespace hvsim;
using namespace hvsim::gui;

namespace {

constexpr uint64_t kPresentRw = 0x7;  // P RW US

EptWalk ept_ok(uint64_t mpa_base) {
  EptWalk e;
  e.outcome = EptOutcome::Ok;
  e.step_count = 4;
  for (int k = 0; k < 4; ++k) e.steps[k] = EptStep{4 - k, mpa_base + 8 * static_cast<uint64_t>(k), ept::R | ept::W | ept::X};
  e.mpa = mpa_base;
  return e;
}

WalkResult guest_ok() {
  WalkResult w;
  w.ok = true;
  w.step_count = 4;
  for (int i = 0; i < 4; ++i) w.steps[i] = WalkStep{4 - i, 0x1000u * static_cast<uint64_t>(i + 1), kPresentRw};
  w.gpa = 0x5000;
  w.page_size = 4096;
  w.can_read = w.can_write = w.can_exec = true;
  return w;
}

}  // namespace

TEST_CASE("WalkLayout: the EPT walk of a 4 KiB page is a grid of 24 references") {
  EptTranslation t;
  t.guest = guest_ok();
  for (int i = 0; i < 4; ++i) t.guest_tables[i] = ept_ok(0x100000);
  t.final = ept_ok(0x200000);
  t.mpa = 0x205000;
  t.references = 24;
  const WalkLayout l = layout_ept(t, WalkQuery{0x400000, Access::Read, 0});
  REQUIRE(l.rows.size() == 5);  // four guest entries and the final address
  CHECK(l.drawn_references() == 24);
  CHECK(l.references == 24);
  CHECK(l.rows[0].title == "guest PML4 entry");
  CHECK(l.rows[0].guest.rights == "P RW US");
  CHECK(l.rows[0].ept[0].rights == "RWX");
  CHECK(l.rows[4].final_row);
  CHECK(l.rows[4].guest.state == RefState::Unused);
  CHECK(l.has_mpa);
  CHECK(l.mpa == 0x205000);
  CHECK(l.failure.empty());
}

TEST_CASE("WalkLayout: an EPT violation on the final address marks its last EPT entry") {
  EptTranslation t;
  t.guest = guest_ok();
  for (int i = 0; i < 4; ++i) t.guest_tables[i] = ept_ok(0x100000);
  t.final = ept_ok(0x200000);
  t.final.outcome = EptOutcome::Violation;
  t.final.step_count = 2;
  t.final.steps[1].entry = 0;  // not present
  t.ept_failed = true;
  t.failed = t.final;
  t.failed_gpa = 0x5000;
  const WalkLayout l = layout_ept(t, WalkQuery{0x400000, Access::Write, 3});
  CHECK(l.rows[4].ept[1].state == RefState::Failed);
  CHECK(l.rows[4].ept[1].rights == "not present");
  CHECK(l.rows[4].ept[2].state == RefState::Unused);
  CHECK(l.drawn_references() == 22);
  CHECK_FALSE(l.ok);
  CHECK_FALSE(l.has_mpa);
  CHECK(l.failure == "EPT violation at guest-physical 0x5000 (exit reason 48)");
}

TEST_CASE("WalkLayout: an EPT violation reaching a guest table adds the row of the entry never read") {
  EptTranslation t;
  t.guest.step_count = 1;
  t.guest.steps[0] = WalkStep{4, 0x1000, kPresentRw};
  t.guest.unbacked_table = true;
  t.guest_tables[0] = ept_ok(0x100000);
  t.guest_tables[1] = ept_ok(0x100000);
  t.guest_tables[1].outcome = EptOutcome::Violation;
  t.guest_tables[1].step_count = 1;
  t.ept_failed = t.ept_failed_in_table = true;
  t.failed = t.guest_tables[1];
  t.failed_gpa = 0x9000000;
  const WalkLayout l = layout_ept(t, WalkQuery{0x1000, Access::Read, 0});
  REQUIRE(l.rows.size() == 2);
  CHECK(l.rows[1].title == "guest PDPT entry");
  CHECK(l.rows[1].gpa == 0x9000000);
  CHECK(l.rows[1].ept[0].state == RefState::Failed);
  CHECK(l.rows[1].guest.state == RefState::Unused);
  CHECK(l.failure.rfind("EPT violation", 0) == 0);
}

TEST_CASE("WalkLayout: a native walk through a not-present entry is a page fault the guest sees") {
  WalkResult w;
  w.step_count = 2;
  w.steps[0] = WalkStep{4, 0x1000, kPresentRw};
  w.steps[1] = WalkStep{3, 0x2000, 0};
  w.pf_error_code = 0x4;
  P2m p2m;
  p2m.add({0, 0x800000, 64 << 20});
  const WalkLayout l = layout_native(w, p2m, WalkQuery{0x7000, Access::Read, 3});
  REQUIRE(l.rows.size() == 2);
  CHECK(l.rows[1].guest.state == RefState::Failed);
  CHECK(l.rows[1].guest.rights == "not present");
  CHECK(l.outcome == "page fault, error code 0x4");
  CHECK_FALSE(l.has_mpa);

  const WalkLayout ok = layout_native(guest_ok(), p2m, WalkQuery{0x7000, Access::Read, 0});
  CHECK(ok.mpa == 0x805000);
  CHECK(ok.references == 4);
}

TEST_CASE("WalkLayout: a shadow miss is a hidden page fault, the guest walk beside it") {
  ShadowTranslation t;
  t.guest = guest_ok();
  t.mpa = 0x905000;
  t.shadow.step_count = 1;
  t.shadow.steps[0] = WalkStep{4, 0x300000, 0};
  const WalkLayout l = layout_shadow(t, WalkQuery{0x400000, Access::Read, 0});
  CHECK_FALSE(l.shadow_hit);
  REQUIRE(l.shadow.size() == 1);
  CHECK(l.shadow[0].state == RefState::Failed);
  CHECK(l.rows.size() == 4);
  CHECK(l.note.find("hidden page fault") != std::string::npos);
  CHECK(l.references == 5);
  CHECK(l.mpa == 0x905000);
}

TEST_CASE("WalkLayout: entry rights are written the way the SDM names the bits") {
  CHECK(guest_entry_rights(0x8000000000000067ull) == "P RW US A D XD");
  CHECK(guest_entry_rights(0x81) == "P RO S PS");
  CHECK(guest_entry_rights(0) == "not present");
  CHECK(ept_entry_rights(ept::R | ept::X | ept::PAGE | ept::A) == "R-X page A");
  CHECK(std::string(table_name(2)) == "PD");
}
