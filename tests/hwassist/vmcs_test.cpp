#include <doctest/doctest.h>

#include "core/cpu/cpu_types.hpp"
#include "hwassist/exit_reasons.hpp"
#include "hwassist/presets.hpp"
#include "hwassist/vm_entry.hpp"

using namespace hvsim;
using namespace hvsim::vmx;

namespace {
constexpr uint64_t kCr0 = cr0::PE | cr0::PG | cr0::WP, kCr4 = cr4::PAE, kEfer = efer::LME | efer::LMA | efer::NXE;

std::optional<EntryFailure> check(const Vmcs& v) { return check_vm_entry(v, kCr0, kCr4, kEfer); }

Vmcs ept_vmcs() {
  Vmcs v = preset("vtx-ept")->vmcs;
  v.set(Field::EPT_POINTER, 0x5000 | 6 | (3 << 3));
  return v;
}
}  // namespace

TEST_CASE("Vmcs: fields are read and written by their SDM encodings, with the SDM's errors") {
  Vmcs v;
  CHECK(v.write(0x4002, 0x1234) == InstructionError::None);  // CPU_BASED_VM_EXEC_CONTROL
  uint64_t value = 0;
  CHECK(v.read(0x4002, value) == InstructionError::None);
  CHECK(value == 0x1234);
  CHECK(v.write(0x0000, 0x12345) == InstructionError::None);  // a 16-bit field keeps 16 bits
  CHECK(v.get(Field::VIRTUAL_PROCESSOR_ID) == 0x2345);
  CHECK(v.write(0x4402, 1) == InstructionError::WriteToReadOnlyComponent);  // VM_EXIT_REASON
  CHECK(v.read(0x4404, value) == InstructionError::None);
  CHECK(v.write(0x1234, 1) == InstructionError::UnsupportedVmcsComponent);
  CHECK(v.read(0x1234, value) == InstructionError::UnsupportedVmcsComponent);
  CHECK(std::string(field_name(Field::EPT_POINTER)) == "EPT_POINTER");
  CHECK(std::string(exit_reason_name(48)) == "EPT violation");
  CHECK(std::string(exit_reason_name(10)) == "CPUID");
}

TEST_CASE("Vmcs: the I/O and MSR bitmaps select exits per port and per MSR") {
  Vmcs v;
  v.set_io_exiting(0x3f8, true);
  v.set_io_exiting(0x8001, true);
  CHECK(v.io_bitmap_exits(0x3f8));
  CHECK(!v.io_bitmap_exits(0x3f9));
  CHECK(v.io_bitmap_exits(0x8001));
  v.set_msr_exiting(0xc0000100, false, true);  // FS_BASE: writes exit, reads do not
  CHECK(!v.msr_bitmap_exits(0xc0000100, false));
  CHECK(v.msr_bitmap_exits(0xc0000100, true));
  CHECK(v.msr_bitmap_exits(0x40000000, false));  // outside both ranges: always
}

TEST_CASE("VmEntry: both presets pass the checks") {
  CHECK(!check(preset("vtx-2006")->vmcs));
  CHECK(!check(ept_vmcs()));
}

TEST_CASE("VmEntry: invalid control combinations fail with VM-instruction error 7") {
  struct Case {
    const char* rule;
    void (*edit)(Vmcs&);
  };
  const Case cases[] = {
      {"reserved", [](Vmcs& v) { v.set(Field::PIN_BASED_VM_EXEC_CONTROL, v.pin() & ~pin::kDefault1); }},
      {"virtual NMIs need NMI exiting",
       [](Vmcs& v) { v.set(Field::PIN_BASED_VM_EXEC_CONTROL, (v.pin() | pin::VIRTUAL_NMIS) & ~pin::NMI_EXITING); }},
      {"TPR threshold", [](Vmcs& v) { v.set(Field::TPR_THRESHOLD, 0x20); }},
      {"EPTP memory type", [](Vmcs& v) { v.set(Field::EPT_POINTER, 0x5000 | 3 | (3 << 3)); }},
      {"page-walk length", [](Vmcs& v) { v.set(Field::EPT_POINTER, 0x5000 | 6 | (2 << 3)); }},
      {"unrestricted guest needs enable EPT",
       [](Vmcs& v) { v.set(Field::SECONDARY_VM_EXEC_CONTROL, v.proc2() & ~proc2::ENABLE_EPT); }},
      {"VPID must not be 0", [](Vmcs& v) { v.set(Field::VIRTUAL_PROCESSOR_ID, 0); }},
      {"CR3-target count", [](Vmcs& v) { v.set(Field::CR3_TARGET_COUNT, 5); }},
      {"MSR bitmap address", [](Vmcs& v) { v.set(Field::MSR_BITMAP, 0x3008); }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.rule);
    Vmcs v = ept_vmcs();
    c.edit(v);
    auto failure = check(v);
    REQUIRE(failure);
    CHECK(failure->error == InstructionError::VmentryInvalidControlFields);
    CHECK(failure->rule.find(c.rule) != std::string::npos);
  }
}

TEST_CASE("VmEntry: a 32-bit host is invalid host state; a mode mismatch is an entry failure exit") {
  Vmcs v = ept_vmcs();
  v.set(Field::VM_EXIT_CONTROLS, v.get(Field::VM_EXIT_CONTROLS) & ~exit_ctl::HOST_ADDRESS_SPACE_SIZE);
  auto host = check(v);
  REQUIRE(host);
  CHECK(host->error == InstructionError::VmentryInvalidHostState);

  Vmcs g = ept_vmcs();
  g.set(Field::VM_ENTRY_CONTROLS, g.get(Field::VM_ENTRY_CONTROLS) & ~entry_ctl::IA32E_MODE_GUEST);
  auto guest = check(g);
  REQUIRE(guest);
  CHECK(guest->error == InstructionError::None);
  CHECK(guest->exit_reason == (33u | (1u << 31)));
}

TEST_CASE("Presets: --paging switches EPT and the exits shadow paging needs") {
  Preset p = *preset("vtx-ept");
  use_paging(p, PagingMode::Shadow);
  CHECK(p.paging == PagingMode::Shadow);
  CHECK(!(p.vmcs.proc2() & proc2::ENABLE_EPT));
  CHECK((p.vmcs.proc() & proc::CR3_LOAD_EXITING));
  CHECK((p.vmcs.get(Field::EXCEPTION_BITMAP) & (1u << 14)));
  CHECK(!check(p.vmcs));
  Preset q = *preset("vtx-2006");
  use_paging(q, PagingMode::Ept);
  CHECK((q.vmcs.proc2() & proc2::ENABLE_EPT));
  q.vmcs.set(Field::EPT_POINTER, 0x5000 | 6 | (3 << 3));
  CHECK(!check(q.vmcs));
}
