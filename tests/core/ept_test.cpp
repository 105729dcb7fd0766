#include <doctest/doctest.h>

#include "core/mem/ept.hpp"
#include "core/mem/ept_paging.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
const std::vector<uint8_t> kSpin = {0xeb, 0xfe};
constexpr uint64_t kPd0 = 0x3000, kPt = 0x40000, kVa = 0x400000, kTarget = 0x500000;

VmConfig ept_config(EptPageSize size) {
  VmConfig c;
  c.paging = PagingMode::Ept;
  c.ept_page = size;
  return c;
}

// The flat machine maps 2 MiB pages; give VA 0x400000 a 4 KiB page of its own (GPA 0x500000),
// so the guest walk has four levels.
void map_4k_page(FlatVm& t) {
  uint64_t pde = kPt | 3, pte = kTarget | 3;
  REQUIRE(t.vm->ram().write(kPd0 + 2 * 8, &pde, 8));
  REQUIRE(t.vm->ram().write(kPt, &pte, 8));
}

EptPaging& ept_of(FlatVm& t) { return dynamic_cast<EptPaging&>(t.vm->mmu()); }
}  // namespace

TEST_CASE("Ept: the VMM's tables map guest RAM at its machine address, in the page size asked for") {
  for (auto [size, steps, page] : {std::tuple{EptPageSize::Size4K, 4, 4096ull}, {EptPageSize::Size2M, 3, 2ull << 20},
                                   {EptPageSize::Size1G, 3, 2ull << 20}}) {
    FlatVm t(kSpin, ept_config(size));
    auto& tables = ept_of(t).tables();
    EptWalk w = ept_walk(tables.frames(), tables.eptp(), 0x123456, Access::Write, false);
    REQUIRE(w.outcome == EptOutcome::Ok);
    CHECK(w.step_count == steps);  // 64 MiB of RAM is too small for a 1 GiB page: 2 MiB pages
    CHECK(w.page_size == page);
    CHECK(w.mpa == t.vm->ram().machine_address() + 0x123456);
    CHECK(t.vm->ram().machine_address() != 0);  // the VMM's frames come first
    CHECK(w.memory_type == ept::kWriteBack);
    CHECK((w.readable && w.writable && w.executable));
    CHECK(ept_walk(tables.frames(), tables.eptp(), 64ull << 20, Access::Read, false).outcome == EptOutcome::Violation);
  }
}

TEST_CASE("Ept: a fill is a two-dimensional walk of 24 references on 4-level tables with 4 KiB pages") {
  FlatVm t(kSpin, ept_config(EptPageSize::Size4K));
  map_4k_page(t);
  EptTranslation tr = ept_of(t).translate(kVa + 0x10, Access::Read, 0);
  REQUIRE(tr.guest.ok);
  CHECK(tr.guest.step_count == 4);
  CHECK(!tr.ept_failed);
  CHECK(tr.references == 24);  // 4 guest levels x (4 EPT + 1) + 4 for the final address
  CHECK(tr.mpa == t.vm->ram().machine_address() + kTarget + 0x10);
  for (int i = 0; i < 4; ++i) CHECK(tr.guest_tables[i].step_count == 4);
  CHECK(tr.final.step_count == 4);

  // The flat machine's own 2 MiB guest pages: three guest levels.
  CHECK(ept_of(t).translate(0x100000, Access::Fetch, 0).references == 3 * 5 + 4);
}

TEST_CASE("Ept: large EPT pages shorten the walk") {
  FlatVm t2(kSpin, ept_config(EptPageSize::Size2M));
  map_4k_page(t2);
  CHECK(ept_of(t2).translate(kVa, Access::Read, 0).references == 4 * (3 + 1) + 3);
}

TEST_CASE("Ept: a violation reports what was accessed, the rights there, and whether it was the translation") {
  FlatVm t(kSpin, ept_config(EptPageSize::Size4K));
  map_4k_page(t);
  EptPaging& mmu = ept_of(t);
  uint64_t* leaf = mmu.tables().leaf_entry(kTarget);
  REQUIRE(leaf);
  *leaf &= ~ept::W;  // the VMM makes the guest page read-only
  EptTranslation tr = mmu.translate(kVa, Access::Write, 0);
  REQUIRE(tr.ept_failed);
  CHECK(!tr.ept_failed_in_table);
  CHECK(tr.failed.outcome == EptOutcome::Violation);
  CHECK(tr.failed_gpa == kTarget);
  CHECK(ept_violation_qualification(tr.failed, Access::Write, true, !tr.ept_failed_in_table) ==
        (ept::qual::WRITE | ept::qual::READABLE | ept::qual::EXECUTABLE | ept::qual::LINEAR_VALID |
         ept::qual::TRANSLATION));
  CHECK(!mmu.translate(kVa, Access::Read, 0).ept_failed);  // reads still go through

  // The guest's page table itself not readable: a violation on a paging-structure access.
  uint64_t* pt_leaf = mmu.tables().leaf_entry(kPt);
  REQUIRE(pt_leaf);
  *pt_leaf &= ~(ept::R | ept::W | ept::X);
  tr = mmu.translate(kVa, Access::Read, 0);
  REQUIRE(tr.ept_failed);
  CHECK(tr.ept_failed_in_table);
  CHECK(tr.failed_gpa == kPt);
  CHECK(ept_violation_qualification(tr.failed, Access::Read, true, false) ==
        (ept::qual::READ | ept::qual::LINEAR_VALID));  // not present: no rights bits
}

TEST_CASE("Ept: entries the processor cannot use are misconfigurations, not violations") {
  FlatVm t(kSpin, ept_config(EptPageSize::Size4K));
  auto& tables = ept_of(t).tables();
  uint64_t* leaf = tables.leaf_entry(0x200000);
  REQUIRE(leaf);
  const uint64_t good = *leaf;
  *leaf = (good & ~ept::R) | ept::W;  // write without read
  CHECK(ept_walk(tables.frames(), tables.eptp(), 0x200000, Access::Read, false).outcome == EptOutcome::Misconfig);
  *leaf = (good & ~ept::kMemoryTypeMask) | (2ull << ept::kMemoryTypeShift);  // reserved memory type
  CHECK(ept_walk(tables.frames(), tables.eptp(), 0x200000, Access::Read, false).outcome == EptOutcome::Misconfig);
  *leaf = good | (1ull << 45);  // above the physical-address width
  CHECK(ept_walk(tables.frames(), tables.eptp(), 0x200000, Access::Read, false).outcome == EptOutcome::Misconfig);
  *leaf = good & ~ept::X;  // execute-only is legal, no-execute too: a fetch is a violation
  CHECK(ept_walk(tables.frames(), tables.eptp(), 0x200000, Access::Fetch, false).outcome == EptOutcome::Violation);
}

TEST_CASE("Ept: with A/D enabled a walk sets accessed on every level and dirty on a written leaf") {
  FlatVm t(kSpin, ept_config(EptPageSize::Size4K));
  auto& tables = ept_of(t).tables();
  REQUIRE(tables.accessed_dirty());
  EptWalk read = ept_walk(tables.frames(), tables.eptp(), 0x300000, Access::Read, true);
  REQUIRE(read.outcome == EptOutcome::Ok);
  EptWalk after = ept_walk(tables.frames(), tables.eptp(), 0x300000, Access::Read, false);
  for (int i = 0; i < after.step_count; ++i) CHECK((after.steps[i].entry & ept::A));
  CHECK(!(after.steps[3].entry & ept::D));
  ept_walk(tables.frames(), tables.eptp(), 0x300000, Access::Write, true);
  CHECK((*tables.leaf_entry(0x300000) & ept::D));
}

TEST_CASE("Ept: a guest reaching a guest-physical address outside its RAM is an isolation event") {
  // mov rax, [0x7f00000] (beyond 64 MiB of RAM, identity mapped by the flat machine's tables)
  FlatVm t({0x48, 0xa1, 0x00, 0x00, 0xf0, 0x07, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xfe}, ept_config(EptPageSize::Size4K));
  t.cpu().run(100);
  CHECK(t.cpu().gpr(Gpr::Rax) == ~0ull);  // the empty bus
  CHECK(t.vm->mmu().counters().isolation_events == 1);
  CHECK(t.vm->mmu().counters().ept_violations >= 1);
}
