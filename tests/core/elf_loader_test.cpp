#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/vm/elf_loader.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;

namespace {
constexpr uint64_t kHigh = HVSIM_KERNEL_VIRT_OFFSET;

struct Seg {
  uint64_t paddr, vaddr, filesz, memsz;
  uint32_t flags = 5;  // R X
  uint32_t type = 1;
};

// A minimal ELF64 executable: header, program headers, then each segment's bytes (0x90 fill).
std::vector<uint8_t> make_elf(uint64_t entry, const std::vector<Seg>& segs) {
  std::vector<uint8_t> f(64 + 56 * segs.size());
  auto put = [&](size_t off, auto v) { std::memcpy(f.data() + off, &v, sizeof v); };
  std::memcpy(f.data(), "\x7f" "ELF", 4);
  f[4] = 2;
  f[5] = 1;
  f[6] = 1;
  put(16, uint16_t{2});
  put(18, uint16_t{62});
  put(20, uint32_t{1});
  put(24, entry);
  put(32, uint64_t{64});
  put(52, uint16_t{64});
  put(54, uint16_t{56});
  put(56, static_cast<uint16_t>(segs.size()));
  for (size_t i = 0; i < segs.size(); ++i) {
    size_t ph = 64 + 56 * i;
    uint64_t offset = f.size();
    f.resize(f.size() + segs[i].filesz, 0x90);
    put(ph, segs[i].type);
    put(ph + 4, segs[i].flags);
    put(ph + 8, offset);
    put(ph + 16, segs[i].vaddr);
    put(ph + 24, segs[i].paddr);
    put(ph + 32, segs[i].filesz);
    put(ph + 40, segs[i].memsz);
  }
  return f;
}

std::vector<uint8_t> good_elf() {
  return make_elf(kHigh + 0x100000, {{0x100000, kHigh + 0x100000, 0x100, 0x100},
                                     {0x102000, kHigh + 0x102000, 0x10, 0x3000, 6}});
}

std::string error_of(const std::vector<uint8_t>& f, uint64_t ram = 64ull << 20) {
  auto r = parse_elf_kernel(f, ram);
  return r.ok() ? "" : r.error().message;
}
}  // namespace

TEST_CASE("ElfLoader: a valid higher-half kernel parses") {
  auto r = parse_elf_kernel(good_elf(), 64ull << 20);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->segments.size() == 2);
  CHECK(r->entry == kHigh + 0x100000);
}

TEST_CASE("ElfLoader: bad and hostile headers are clear errors") {
  auto f = good_elf();
  CHECK(error_of({}).find("truncated") != std::string::npos);
  CHECK(error_of(std::vector<uint8_t>(f.begin(), f.begin() + 63)).find("truncated") != std::string::npos);
  auto g = f;
  g[0] = 'X';
  CHECK(error_of(g).find("bad magic") != std::string::npos);
  g = f;
  g[4] = 1;
  CHECK(error_of(g).find("64-bit") != std::string::npos);
  g = f;
  g[18] = 3;  // EM_386
  CHECK(error_of(g).find("x86-64") != std::string::npos);
  g = f;
  g[16] = 3;  // ET_DYN
  CHECK(error_of(g).find("executable") != std::string::npos);
  g = f;
  g[56] = 0xff;  // 255 program headers, beyond the file
  CHECK(!error_of(g).empty());
  g = f;
  std::vector<uint8_t> cut(f.begin(), f.begin() + 64 + 56 + 20);  // segment data cut off
  CHECK(error_of(cut).find("truncated") != std::string::npos);
}

TEST_CASE("ElfLoader: segments must fit in RAM, above 1 MiB, without overlap, at a known alias") {
  CHECK(error_of(make_elf(kHigh + 0x100000, {{0x100000, kHigh + 0x100000, 0x10, ~0ull - 0x10}}))
            .find("outside the guest") != std::string::npos);  // huge p_memsz
  CHECK(error_of(make_elf(kHigh + 0x100000, {{0x100000, kHigh + 0x100000, 0x10, 0x10}}), 0x100008)
            .find("outside the guest") != std::string::npos);
  CHECK(error_of(make_elf(kHigh + 0x1000, {{0x1000, kHigh + 0x1000, 0x10, 0x10}})).find("below 1 MiB") !=
        std::string::npos);
  CHECK(error_of(make_elf(kHigh + 0x100000, {{0x100000, kHigh + 0x100000, 0x100, 0x2000},
                                             {0x101000, kHigh + 0x101000, 0x10, 0x10}}))
            .find("overlap") != std::string::npos);
  CHECK(error_of(make_elf(0x500000, {{0x100000, 0x500000, 0x10, 0x10}})).find("neither paddr") != std::string::npos);
  CHECK(error_of(make_elf(kHigh + 0x200000, {{0x100000, kHigh + 0x100000, 0x10, 0x10}})).find("entry point") !=
        std::string::npos);
  CHECK(error_of(make_elf(kHigh + 0x100000, {{0x100000, kHigh + 0x100000, 0x20, 0x10}}))
            .find("file size larger") != std::string::npos);
}

TEST_CASE("ElfLoader: loading zero-fills .bss, places the initrd and writes the boot info") {
  hvsim::test::FlatVm t({0xeb, 0xfe});
  auto elf = good_elf();
  t.vm->ram().host(0x102000, 0x3000)[0x2000] = 0x55;  // stale byte inside the future .bss
  KernelBoot boot;
  boot.cmdline = "init selftest";
  boot.initrd = std::vector<uint8_t>(5000, 0xab);
  boot.devices = {{HVSIM_DEVICE_UART16550, 0x3f8, 8, 0}};
  auto r = load_elf_kernel(*t.vm, elf, boot);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  auto& ram = t.vm->ram();
  CHECK(*ram.load<uint8_t>(0x100000) == 0x90);
  CHECK(*ram.load<uint8_t>(0x102010) == 0);  // .bss
  CHECK(*ram.load<uint8_t>(0x104000) == 0);
  hvsim_boot_info bi;
  REQUIRE(ram.read(HVSIM_BOOT_INFO_ADDR, &bi, sizeof bi));
  CHECK(bi.magic == HVSIM_BOOT_MAGIC);
  CHECK(bi.kernel_start == 0x100000);
  CHECK(bi.kernel_end == 0x105000);
  CHECK(bi.initrd_addr == 0x105000);
  CHECK(bi.initrd_size == 5000);
  CHECK(*ram.load<uint8_t>(0x105000 + 4999) == 0xab);
  CHECK(bi.device_count == 1);
  CHECK(std::string(reinterpret_cast<const char*>(ram.host(bi.cmdline_addr, bi.cmdline_len + 1))) == "init selftest");
  CHECK(t.cpu().rip() == kHigh + 0x100000);
  CHECK(t.cpu().gpr(Gpr::Rdi) == HVSIM_BOOT_INFO_ADDR);
  // The higher-half alias maps the kernel: its first byte is fetchable at the entry point.
  StopReason s = t.cpu().run(3);
  CHECK(s.kind == StopKind::BudgetExhausted);  // executed the NOPs
}

TEST_CASE("ElfLoader: an initrd that does not fit, or a command line too long, is refused") {
  hvsim::test::FlatVm t({0xeb, 0xfe});
  KernelBoot boot;
  boot.initrd = std::vector<uint8_t>(64ull << 20, 0);
  auto r = load_elf_kernel(*t.vm, good_elf(), boot);
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("initrd") != std::string::npos);
  KernelBoot long_cmd;
  long_cmd.cmdline = std::string(5000, 'x');
  auto c = load_elf_kernel(*t.vm, good_elf(), long_cmd);
  REQUIRE(!c.ok());
  CHECK(c.error().message.find("command line") != std::string::npos);
}
