#include <doctest/doctest.h>

#include "core/mem/shadow_paging.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
VmConfig shadow_config() {
  VmConfig c;
  c.paging = PagingMode::Shadow;
  c.max_instructions = 1000;
  return c;
}
ShadowPaging& shadow_of(FlatVm& t) { return dynamic_cast<ShadowPaging&>(t.vm->mmu()); }

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
const std::vector<uint8_t> kReadAt400000 = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00};  // mov rax, [0x400000]
const std::vector<uint8_t> kInvlpg400000 = {0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x40, 0x00};  // invlpg [0x400000]
const std::vector<uint8_t> kLoadPde = {0x48, 0x8b, 0x1c, 0x25, 0x10, 0x30, 0x00, 0x00};       // mov rbx, [0x3010]
const std::vector<uint8_t> kClearA = {0x48, 0x83, 0xe3, 0xdf};                               // and rbx, ~0x20
const std::vector<uint8_t> kStorePde = {0x48, 0x89, 0x1c, 0x25, 0x10, 0x30, 0x00, 0x00};      // mov [0x3010], rbx
const std::vector<uint8_t> kSpin = {0xeb, 0xfe};
}  // namespace

TEST_CASE("ShadowPaging: a miss is a hidden fault, then the shadow entry serves the MMU") {
  FlatVm t(cat({kReadAt400000, kSpin}), shadow_config());
  ShadowPaging& mmu = shadow_of(t);
  CHECK(!mmu.translate(0x400000, Access::Read, 0).shadow_hit);
  t.vm->run();
  ShadowTranslation tr = mmu.translate(0x400000, Access::Read, 0);
  CHECK(tr.shadow_hit);
  CHECK(tr.shadow.step_count == 4);  // the guest's 2 MiB page is shadowed by a 4 KiB entry
  CHECK(tr.mpa == t.vm->ram().machine_address() + 0x400000);
  CHECK((tr.shadow.steps[3].entry & ~0xfffull & ((1ull << 40) - 1)) == tr.mpa);
  CHECK(mmu.counters().hidden_faults >= 2);  // the code page and the data page
  CHECK(mmu.is_traced(0x1000));             // the guest's PML4, PDPT and PD
  CHECK(mmu.is_traced(0x3000));
  CHECK(!mmu.is_traced(0x400000));
}

TEST_CASE("ShadowPaging: a write to a guest page-table entry drops the shadow entries built from it") {
  FlatVm t(cat({kReadAt400000, kLoadPde, kClearA, kStorePde, kSpin}), shadow_config());
  t.vm->run();
  ShadowPaging& mmu = shadow_of(t);
  CHECK(mmu.counters().pt_write_traces == 1);
  CHECK(!mmu.translate(0x400000, Access::Read, 0).shadow_hit);  // applied at the next stop
  CHECK(mmu.translate(0x100000, Access::Fetch, 0).shadow_hit);   // built from other entries
}

TEST_CASE("ShadowPaging: a write that leaves the entry as it was keeps the shadow") {
  FlatVm t(cat({kReadAt400000, kLoadPde, kStorePde, kSpin}), shadow_config());
  t.vm->run();
  ShadowPaging& mmu = shadow_of(t);
  CHECK(mmu.counters().pt_write_traces == 1);
  CHECK(mmu.translate(0x400000, Access::Read, 0).shadow_hit);
}

TEST_CASE("ShadowPaging: INVLPG is trapped and drops the page's shadow entry") {
  FlatVm t(cat({kReadAt400000, kInvlpg400000, kSpin}), shadow_config());
  t.vm->run();
  ShadowPaging& mmu = shadow_of(t);
  CHECK(mmu.counters().shadow_invlpg == 1);
  CHECK(!mmu.translate(0x400000, Access::Read, 0).shadow_hit);
  CHECK(t.cpu().rip() == 0x100000 + 16);  // INVLPG emulated, the guest went on
}

TEST_CASE("ShadowPaging: a true fault is reflected with the guest's error code") {
  // mov rax, [0x7f0000000000] (PML4 entry 254: not present), no IDT: the #PF becomes a #DF,
  // then a triple fault; the fault itself is what is counted.
  FlatVm t({0x48, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0xeb, 0xfe}, shadow_config());
  t.vm->run();
  CHECK(shadow_of(t).counters().true_faults >= 1);
  CHECK(t.vm->counters().exceptions_delivered >= 1);
}
