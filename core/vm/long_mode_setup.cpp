#include "core/vm/long_mode_setup.hpp"

namespace hvsim {
namespace {

constexpr uint64_t kCode64 = 0x00af9b000000ffffull;   // L, P, DPL0, exec/read, accessed
constexpr uint64_t kData = 0x00cf93000000ffffull;     // P, DPL0, read/write, accessed
constexpr uint64_t kUserCode32 = 0x00cffb000000ffffull;
constexpr uint64_t kUserData = 0x00cff3000000ffffull;
constexpr uint64_t kUserCode64 = 0x00affb000000ffffull;

SegmentState from_descriptor(uint16_t selector, uint64_t d) {
  SegmentState s;
  s.selector = selector;
  s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
  uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
  uint32_t hi = static_cast<uint32_t>(d >> 32);
  s.limit = (hi & (1u << 23)) ? (limit << 12) | 0xfff : limit;
  s.attributes = hi & 0x00f0ff00u;
  return s;
}

}  // namespace

Result<void> enter_long_mode(Vm& vm, const LongModeEntry& entry) {
  GuestRam& ram = vm.ram();
  if (!ram.contains(0, 0x100000)) return make_error("guest RAM must be at least 1 MiB");
  auto put = [&](uint64_t gpa, uint64_t v) { ram.write(gpa, &v, 8); };

  // Identity map of 4 GiB with 2 MiB pages: P | RW | US | PS.
  put(kSetupPml4, kSetupPdpt | 0x7);
  for (uint64_t i = 0; i < 4; ++i) {
    put(kSetupPdpt + i * 8, (kSetupPd0 + i * 0x1000) | 0x7);
    for (uint64_t j = 0; j < 512; ++j) {
      put(kSetupPd0 + i * 0x1000 + j * 8, ((i * 512 + j) << 21) | 0x87);
    }
  }
  if (entry.higher_half_alias) {
    // PML4[511] -> PDPT whose entries 510 and 511 reuse the first two identity PDs.
    put(kSetupPml4 + 511 * 8, kSetupPdptHigh | 0x3);
    put(kSetupPdptHigh + 510 * 8, kSetupPd0 | 0x3);
    put(kSetupPdptHigh + 511 * 8, (kSetupPd0 + 0x1000) | 0x3);
  }

  // GDT: null, kernel code64, kernel data, user code32, user data, user code64, TSS (16 bytes).
  const uint64_t gdt[] = {0, kCode64, kData, kUserCode32, kUserData, kUserCode64};
  for (size_t i = 0; i < 6; ++i) put(kSetupGdt + i * 8, gdt[i]);
  const uint64_t tss_limit = 0x67;
  uint64_t tss_lo = tss_limit | ((kSetupTss & 0xffffff) << 16) | (0x8bull << 40) |  // busy 64-bit TSS
                    (((kSetupTss >> 24) & 0xff) << 56);
  put(kSetupGdt + 0x30, tss_lo);
  put(kSetupGdt + 0x38, kSetupTss >> 32);
  // TSS: RSP0, IST1; I/O map base beyond the limit (no bitmap: ports denied at CPL > IOPL).
  put(kSetupTss + 4, kSetupStackTop);
  put(kSetupTss + 0x24, kSetupIst1Top);
  uint16_t iomap = 0x68;
  ram.write(kSetupTss + 0x66, &iomap, 2);

  UnicornCpu& cpu = vm.cpu();
  cpu.set_msr(msr::IA32_EFER, efer::LME | efer::LMA | efer::NXE | efer::SCE);
  cpu.set_cr(4, cr4::PAE);
  cpu.set_cr(3, kSetupPml4);
  cpu.set_cr(0, cr0::PE | cr0::ET | cr0::NE | cr0::WP | cr0::PG);
  cpu.set_gdtr({kSetupGdt, 0x3f});
  cpu.set_idtr({0, 0});
  cpu.set_tr(from_descriptor(kSetupTssSelector, tss_lo));
  cpu.set_ldtr({});
  cpu.set_segment(Seg::Cs, from_descriptor(0x08, kCode64));
  for (Seg s : {Seg::Ss, Seg::Ds, Seg::Es}) cpu.set_segment(s, from_descriptor(0x10, kData));
  cpu.set_segment(Seg::Fs, {});
  cpu.set_segment(Seg::Gs, {});
  for (int r = 0; r < kGprCount; ++r) cpu.set_gpr(static_cast<Gpr>(r), 0);
  cpu.set_gpr(Gpr::Rsp, entry.rsp);
  cpu.set_gpr(Gpr::Rdi, entry.rdi);
  cpu.set_rflags(rflags::kFixed1);
  cpu.set_rip(entry.rip);
  cpu.set_cr(8, 0);
  cpu.flush_tlb();
  return {};
}

}  // namespace hvsim
