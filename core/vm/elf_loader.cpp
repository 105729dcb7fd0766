#include "core/vm/elf_loader.hpp"

#include <algorithm>
#include <cstring>

#include "core/vm/long_mode_setup.hpp"

namespace hvsim {
namespace {

// ELF64 (System V ABI, x86-64 supplement), the fields hvsim reads.
constexpr size_t kEhdrSize = 64, kPhdrSize = 56;
constexpr uint16_t kEtExec = 2, kEmX86_64 = 62;
constexpr uint32_t kPtLoad = 1, kPfX = 1;
constexpr uint16_t kMaxPhdrs = 64;

template <typename T>
T get(const std::vector<uint8_t>& f, size_t off) {
  T v;
  std::memcpy(&v, f.data() + off, sizeof v);
  return v;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

static_assert(sizeof(hvsim_boot_info) <= HVSIM_BOOT_CMDLINE_ADDR - HVSIM_BOOT_INFO_ADDR,
              "the boot info must fit below the command line");

// a + b <= limit, without overflow
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

}  // namespace

Result<ElfImage> parse_elf_kernel(const std::vector<uint8_t>& f, uint64_t ram_size) {
  auto bad = [](const std::string& what) { return make_error("kernel ELF: " + what); };
  if (f.size() < kEhdrSize) return bad("truncated (" + std::to_string(f.size()) + " bytes, no ELF header)");
  if (std::memcmp(f.data(), "\x7f" "ELF", 4) != 0) return bad("not an ELF file (bad magic)");
  if (f[4] != 2) return bad("not a 64-bit ELF (EI_CLASS " + std::to_string(f[4]) + ")");
  if (f[5] != 1) return bad("not little-endian (EI_DATA " + std::to_string(f[5]) + ")");
  if (f[6] != 1) return bad("unknown ELF version " + std::to_string(f[6]));
  if (get<uint16_t>(f, 16) != kEtExec) return bad("not an executable (e_type " + std::to_string(get<uint16_t>(f, 16)) + ")");
  if (get<uint16_t>(f, 18) != kEmX86_64) return bad("not an x86-64 ELF (e_machine " + std::to_string(get<uint16_t>(f, 18)) + ")");
  const uint64_t entry = get<uint64_t>(f, 24);
  const uint64_t phoff = get<uint64_t>(f, 32);
  const uint16_t phentsize = get<uint16_t>(f, 54);
  const uint16_t phnum = get<uint16_t>(f, 56);
  if (phentsize != kPhdrSize) return bad("program header size " + std::to_string(phentsize) + ", expected 56");
  if (phnum == 0 || phnum > kMaxPhdrs) return bad(std::to_string(phnum) + " program headers (1 to 64 allowed)");
  if (!fits(phoff, uint64_t{phnum} * kPhdrSize, f.size())) return bad("program headers beyond the end of the file (truncated)");

  ElfImage img;
  img.entry = entry;
  for (uint16_t i = 0; i < phnum; ++i) {
    const size_t ph = phoff + size_t{i} * kPhdrSize;
    if (get<uint32_t>(f, ph) != kPtLoad) continue;
    ElfSegment s;
    s.executable = get<uint32_t>(f, ph + 4) & kPfX;
    s.file_offset = get<uint64_t>(f, ph + 8);
    s.vaddr = get<uint64_t>(f, ph + 16);
    s.paddr = get<uint64_t>(f, ph + 24);
    s.file_size = get<uint64_t>(f, ph + 32);
    s.mem_size = get<uint64_t>(f, ph + 40);
    const std::string name = "segment " + std::to_string(i) + " (paddr " + hex(s.paddr) + ")";
    if (s.mem_size == 0) continue;
    if (s.file_size > s.mem_size) return bad(name + ": file size larger than memory size");
    if (!fits(s.file_offset, s.file_size, f.size())) return bad(name + ": data beyond the end of the file (truncated)");
    if (s.paddr < HVSIM_KERNEL_MIN_PADDR) return bad(name + ": below 1 MiB, which the loader reserves");
    if (!fits(s.paddr, s.mem_size, ram_size)) {
      return bad(name + ", " + std::to_string(s.mem_size) + " bytes: outside the guest's " +
                 std::to_string(ram_size >> 20) + " MiB of RAM");
    }
    if (s.vaddr != s.paddr && s.vaddr != s.paddr + HVSIM_KERNEL_VIRT_OFFSET) {
      return bad(name + ": vaddr " + hex(s.vaddr) + " is neither paddr nor paddr + 0xffffffff80000000");
    }
    if (s.paddr + s.mem_size > 0x80000000ull && s.vaddr != s.paddr) {
      return bad(name + ": a higher-half segment must lie in the first 2 GiB");
    }
    img.segments.push_back(s);
  }
  if (img.segments.empty()) return bad("no loadable segment");
  std::sort(img.segments.begin(), img.segments.end(),
            [](const ElfSegment& a, const ElfSegment& b) { return a.paddr < b.paddr; });
  for (size_t i = 1; i < img.segments.size(); ++i) {
    const auto& a = img.segments[i - 1];
    if (a.paddr + a.mem_size > img.segments[i].paddr) {
      return bad("segments at " + hex(a.paddr) + " and " + hex(img.segments[i].paddr) + " overlap");
    }
  }
  bool entry_ok = std::any_of(img.segments.begin(), img.segments.end(), [&](const ElfSegment& s) {
    return s.executable && entry >= s.vaddr && entry - s.vaddr < s.mem_size;
  });
  if (!entry_ok) return bad("entry point " + hex(entry) + " is not inside an executable segment");
  return img;
}

Result<void> load_elf_kernel(Vm& vm, const std::vector<uint8_t>& file, const KernelBoot& boot) {
  GuestRam& ram = vm.ram();
  auto img = parse_elf_kernel(file, ram.size());
  if (!img) return img.error();
  if (boot.cmdline.size() > HVSIM_BOOT_CMDLINE_MAX) {
    return make_error("kernel command line of " + std::to_string(boot.cmdline.size()) + " bytes; the limit is " +
                      std::to_string(HVSIM_BOOT_CMDLINE_MAX));
  }
  if (boot.initrd.size() > kMaxInitrdBytes) return make_error("initrd larger than 256 MiB");
  if (boot.devices.size() > HVSIM_BOOT_MAX_DEVICES) return make_error("too many devices for the boot info");

  const uint64_t kernel_start = img->segments.front().paddr;
  const uint64_t kernel_end = img->segments.back().paddr + img->segments.back().mem_size;
  const uint64_t initrd_addr = boot.initrd.empty() ? 0 : (kernel_end + kPageSize - 1) & ~(kPageSize - 1);
  if (!boot.initrd.empty() && !ram.contains(initrd_addr, boot.initrd.size())) {
    return make_error("initrd of " + std::to_string(boot.initrd.size()) + " bytes does not fit in RAM after the kernel (at " +
                      hex(initrd_addr) + ")");
  }

  for (const auto& s : img->segments) {
    uint8_t* dst = ram.host(s.paddr, s.mem_size);  // validated by parse_elf_kernel
    std::memcpy(dst, file.data() + s.file_offset, s.file_size);
    std::memset(dst + s.file_size, 0, s.mem_size - s.file_size);
  }
  if (!boot.initrd.empty()) ram.write(initrd_addr, boot.initrd.data(), boot.initrd.size());

  hvsim_boot_info info{};
  info.magic = HVSIM_BOOT_MAGIC;
  info.version = HVSIM_BOOT_VERSION;
  info.size = sizeof info;
  info.cmdline_addr = HVSIM_BOOT_CMDLINE_ADDR;
  info.cmdline_len = boot.cmdline.size();
  info.initrd_addr = initrd_addr;
  info.initrd_size = boot.initrd.size();
  info.kernel_start = kernel_start;
  info.kernel_end = kernel_end;
  info.ram_size = ram.size();
  auto region = [&](uint64_t base, uint64_t length, uint32_t type) {
    if (length && info.region_count < HVSIM_BOOT_MAX_REGIONS) info.regions[info.region_count++] = {base, length, type, 0};
  };
  const uint64_t initrd_end = initrd_addr ? (initrd_addr + boot.initrd.size() + kPageSize - 1) & ~(kPageSize - 1) : kernel_end;
  region(0, HVSIM_KERNEL_MIN_PADDR, HVSIM_REGION_RESERVED);
  region(HVSIM_KERNEL_MIN_PADDR, kernel_start - HVSIM_KERNEL_MIN_PADDR, HVSIM_REGION_USABLE);
  region(kernel_start, kernel_end - kernel_start, HVSIM_REGION_KERNEL);
  if (initrd_addr) region(initrd_addr, boot.initrd.size(), HVSIM_REGION_INITRD);
  const uint64_t free_start = std::max(kernel_end, initrd_end);
  region((free_start + kPageSize - 1) & ~(kPageSize - 1), ram.size() - ((free_start + kPageSize - 1) & ~(kPageSize - 1)),
         HVSIM_REGION_USABLE);
  for (const auto& d : boot.devices) {
    info.devices[info.device_count++] = {d.type, 0, d.base, d.size, d.irq_vector, 0};
  }
  ram.write(HVSIM_BOOT_INFO_ADDR, &info, sizeof info);
  std::vector<uint8_t> cmdline(boot.cmdline.begin(), boot.cmdline.end());
  cmdline.push_back(0);
  ram.write(HVSIM_BOOT_CMDLINE_ADDR, cmdline.data(), cmdline.size());

  LongModeEntry entry;
  entry.rip = img->entry;
  entry.rdi = HVSIM_BOOT_INFO_ADDR;
  entry.higher_half_alias = true;
  return enter_long_mode(vm, entry);
}

}  // namespace hvsim
