#pragma once
// Loads a 64-bit ELF kernel and starts it per the hvsim boot protocol (docs/boot-protocol.md).
// Every field of the file is validated before anything is written to guest memory: a bad,
// truncated or hostile ELF is a clear error, never a host crash.
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"
#include "core/vm/boot_info.h"
#include "core/vm/vm.hpp"

namespace hvsim {

struct ElfSegment {
  uint64_t paddr = 0, vaddr = 0, file_offset = 0, file_size = 0, mem_size = 0;
  bool executable = false;
};

struct ElfImage {
  uint64_t entry = 0;
  std::vector<ElfSegment> segments;  // PT_LOAD only, sorted by paddr
};

struct BootDevice {
  uint32_t type = 0;
  uint64_t base = 0, size = 0;
  uint32_t irq_vector = 0;
};

struct KernelBoot {
  std::vector<uint8_t> initrd;
  std::string cmdline;
  std::vector<BootDevice> devices;
};

constexpr uint64_t kMaxKernelBytes = 64ull << 20;
constexpr uint64_t kMaxInitrdBytes = 256ull << 20;

// Checks the ELF header and program headers against `ram_size`; no memory is touched.
Result<ElfImage> parse_elf_kernel(const std::vector<uint8_t>& file, uint64_t ram_size);

// Parses, loads segments (zero-filling .bss), places the initrd after the kernel, writes the
// boot info and command line, and sets the CPU at the entry point.
Result<void> load_elf_kernel(Vm& vm, const std::vector<uint8_t>& file, const KernelBoot& boot);

}  // namespace hvsim
