#include <doctest/doctest.h>

#include <vector>

#include "core/mem/guest_ram.hpp"
#include "core/mem/page_walker.hpp"

using namespace hvsim;

namespace {
struct Tables {
  MachineMemory machine{1 << 20};
  GuestRam ram{*machine.allocate(1 << 20, "test")};
  void put(uint64_t gpa, uint64_t v) { ram.write(gpa, &v, 8); }
  uint64_t get(uint64_t gpa) { return *ram.load<uint64_t>(gpa); }
  // PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000; va 0x400000+i*4K -> pa 0x10000+i*4K
  Tables() {
    put(0x1000, 0x2000 | 7);
    put(0x2000, 0x3000 | 7);
    put(0x3000 + 2 * 8, 0x4000 | 7);
  }
  PagingControl ctl(uint64_t extra_cr0 = cr0::WP, uint64_t cr4v = cr4::PAE) {
    return PagingControl{cr0::PG | cr0::PE | extra_cr0, 0x1000, cr4v, efer::LME | efer::LMA | efer::NXE, false};
  }
};
}  // namespace

TEST_CASE("PageWalker: 4K translation visits four levels and sets accessed bits") {
  Tables t;
  t.put(0x4000 + 3 * 8, 0x13000 | 3);  // P RW, supervisor
  auto w = walk_page_tables(t.ram, t.ctl(), 0x403123, Access::Read, 0, true);
  REQUIRE(w.ok);
  CHECK(w.gpa == 0x13123);
  CHECK(w.step_count == 4);
  CHECK(w.page_size == 4096);
  CHECK((t.get(0x4000 + 3 * 8) & 0x20) != 0);
  CHECK((t.get(0x4000 + 3 * 8) & 0x40) == 0);  // not dirty after a read
}

TEST_CASE("PageWalker: error codes for not-present, write, user and NX faults") {
  Tables t;
  auto nx = 1ull << 63;
  t.put(0x4000 + 0 * 8, 0);                // not present
  t.put(0x4000 + 1 * 8, 0x11000 | 1);      // read-only supervisor
  t.put(0x4000 + 2 * 8, 0x12000 | 3 | nx); // RW supervisor NX
  auto np = walk_page_tables(t.ram, t.ctl(), 0x400000, Access::Read, 0, true);
  CHECK(!np.ok);
  CHECK(np.pf_error_code == 0);
  auto ro = walk_page_tables(t.ram, t.ctl(), 0x401000, Access::Write, 0, true);
  CHECK(ro.pf_error_code == (pfec::P | pfec::W));
  auto user = walk_page_tables(t.ram, t.ctl(), 0x401000, Access::Read, 3, true);
  CHECK(user.pf_error_code == (pfec::P | pfec::U));
  auto fetch = walk_page_tables(t.ram, t.ctl(), 0x402000, Access::Fetch, 0, true);
  CHECK(fetch.pf_error_code == (pfec::P | pfec::I));
  // CR0.WP = 0: the supervisor may write a read-only page.
  auto wp0 = walk_page_tables(t.ram, t.ctl(0), 0x401000, Access::Write, 0, true);
  CHECK(wp0.ok);
}

TEST_CASE("PageWalker: reserved bits and large pages") {
  Tables t;
  t.put(0x3000 + 4 * 8, 0x800000 | 0x83);  // 2M page at va 0x800000
  auto big = walk_page_tables(t.ram, t.ctl(), 0x8abcde, Access::Write, 0, true);
  REQUIRE(big.ok);
  CHECK(big.gpa == 0x8abcde);
  CHECK(big.page_size == (2u << 20));
  CHECK((t.get(0x3000 + 4 * 8) & 0x40) != 0);  // dirty after write
  t.put(0x3000 + 5 * 8, 0xa00000 | 0x83 | (1ull << 13));  // reserved bit 13 in a 2M entry
  auto rsvd = walk_page_tables(t.ram, t.ctl(), 0xa00000, Access::Read, 0, true);
  CHECK(rsvd.pf_error_code == (pfec::P | pfec::RSVD));
  CHECK(walk_page_tables(t.ram, t.ctl(), 0x0000800000000000ull, Access::Read, 0, true).non_canonical);
}

TEST_CASE("PageWalker: SMEP and SMAP") {
  Tables t;
  t.put(0x4000 + 5 * 8, 0x15000 | 7);  // user page
  auto c = t.ctl(cr0::WP, cr4::PAE | cr4::SMEP | cr4::SMAP);
  CHECK(walk_page_tables(t.ram, c, 0x405000, Access::Fetch, 0, false).pf_error_code == (pfec::P | pfec::I));
  CHECK(!walk_page_tables(t.ram, c, 0x405000, Access::Read, 0, false).ok);
  c.rflags_ac = true;
  CHECK(walk_page_tables(t.ram, c, 0x405000, Access::Read, 0, false).ok);
  CHECK(walk_page_tables(t.ram, c, 0x405000, Access::Fetch, 3, false).ok);
}
