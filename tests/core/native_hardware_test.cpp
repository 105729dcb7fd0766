#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "core/vm/native_hardware.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
// The CPUID feature that makes CR4 bit `bit` usable (SDM Vol. 3A 2.5, Vol. 2A CPUID), from
// leaf 1 (ECX, EDX) and leaf 7 (EBX, ECX, EDX); nullopt for bits no feature defines.
struct Cpuid {
  uint64_t ecx1, edx1, ebx7, ecx7, edx7;
};
std::optional<bool> cpu_has_cr4_feature(unsigned bit, const Cpuid& c) {
  auto has = [](uint64_t reg, unsigned b) { return ((reg >> b) & 1) != 0; };
  switch (bit) {
    case 0: case 1: return has(c.edx1, 1);  // VME, PVI
    case 2: return has(c.edx1, 4);           // TSD: TSC
    case 3: return has(c.edx1, 2);           // DE
    case 4: return has(c.edx1, 3);           // PSE
    case 5: return has(c.edx1, 6);           // PAE
    case 6: return has(c.edx1, 7);           // MCE
    case 7: return has(c.edx1, 13);          // PGE
    case 8: return true;                     // PCE: RDPMC at any CPL
    case 9: return has(c.edx1, 24);          // OSFXSR: FXSR
    case 10: return has(c.edx1, 25);         // OSXMMEXCPT: SSE
    case 11: return has(c.ecx7, 2);          // UMIP
    case 12: return has(c.ecx7, 16);         // LA57
    case 13: return has(c.ecx1, 5);          // VMXE
    case 14: return has(c.ecx1, 6);          // SMXE
    case 16: return has(c.ebx7, 0);          // FSGSBASE
    case 17: return has(c.ecx1, 17);         // PCIDE
    case 18: return has(c.ecx1, 26);         // OSXSAVE
    case 19: return has(c.ecx7, 23);         // KL
    case 20: return has(c.ebx7, 7);          // SMEP
    case 21: return has(c.ebx7, 20);         // SMAP
    case 22: return has(c.ecx7, 3);          // PKE
    case 23: return has(c.ecx7, 7);          // CET
    case 24: return has(c.ecx7, 31);         // PKS
    case 25: return has(c.edx7, 5);          // UINTR
    default: return std::nullopt;
  }
}
}  // namespace

TEST_CASE("NativeHardware: MOV to CR4 takes the features CPUID reports (and SMEP), #GP for every other bit") {
  // mov eax, 1 ; xor ecx, ecx ; cpuid ; mov r8, rcx ; mov r9, rdx ; mov eax, 7 ; xor ecx, ecx ;
  // cpuid ; jmp $
  FlatVm t({0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc9, 0x0f, 0xa2, 0x49, 0x89, 0xc8, 0x49, 0x89, 0xd1,
            0xb8, 0x07, 0x00, 0x00, 0x00, 0x31, 0xc9, 0x0f, 0xa2, 0xeb, 0xfe});
  t.cpu().run(100);
  const Cpuid c{t.cpu().gpr(Gpr::R8), t.cpu().gpr(Gpr::R9), t.cpu().gpr(Gpr::Rbx), t.cpu().gpr(Gpr::Rcx),
                t.cpu().gpr(Gpr::Rdx)};
  for (unsigned bit = 0; bit < 64; ++bit) {
    CAPTURE(bit);
    const bool writable = !NativeHardware::cr_write_faults(*t.vm, 4, cr4::PAE | (1ull << bit));
    // SMEP: hvsim's MMU enforces it although this CPUID model does not report it.
    const bool expected = bit == 20 || cpu_has_cr4_feature(bit, c).value_or(false);
    CHECK(writable == expected);
  }
  CHECK(NativeHardware::cr_write_faults(*t.vm, 4, 0));  // leaving IA-32e mode by clearing PAE
}

TEST_CASE("NativeHardware: MOV to CR0 and CR3 fault on reserved bits and invalid combinations") {
  FlatVm t({0xeb, 0xfe});
  const uint64_t cr0v = t.cpu().cr(0), cr3v = t.cpu().cr(3);
  CHECK(!NativeHardware::cr_write_faults(*t.vm, 0, cr0v));
  CHECK(NativeHardware::cr_write_faults(*t.vm, 0, cr0v | (1ull << 32)));
  CHECK(NativeHardware::cr_write_faults(*t.vm, 0, cr0v & ~cr0::PE));                // PG without PE
  CHECK(NativeHardware::cr_write_faults(*t.vm, 0, (cr0v & ~cr0::CD) | cr0::NW));    // NW without CD
  CHECK(NativeHardware::cr_write_faults(*t.vm, 0, cr0v & ~cr0::PG));                // 64-bit mode
  CHECK(!NativeHardware::cr_write_faults(*t.vm, 3, cr3v | 0x18));                   // PWT, PCD
  CHECK(!NativeHardware::cr_write_faults(*t.vm, 3, (1ull << 40) - 0x1000));         // below MAXPHYADDR
  CHECK(NativeHardware::cr_write_faults(*t.vm, 3, cr3v | (1ull << 40)));
  CHECK(NativeHardware::cr_write_faults(*t.vm, 3, cr3v | (1ull << 63)));            // no PCIDE
  CHECK(!NativeHardware::cr_write_faults(*t.vm, 2, ~0ull));                         // CR2: any value
}
