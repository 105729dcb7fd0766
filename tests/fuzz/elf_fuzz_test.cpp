// Fuzzing the ELF kernel loader: mutated and truncated copies of the real guest kernel must
// be refused with a message or loaded and run to a proper end, never crash the host.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "core/vm/elf_loader.hpp"

using namespace hvsim;

namespace {
std::vector<uint8_t> kernel_file() {
  std::ifstream in(HVSIM_KERNEL_PATH, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "kernel not built: " HVSIM_KERNEL_PATH);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("Fuzz: mutated kernel ELFs are refused cleanly or run to a proper end") {
  const auto original = kernel_file();
  std::mt19937_64 rng(0xe1f5eed);
  unsigned refused = 0, loaded = 0;
  for (int i = 0; i < 300; ++i) {
    CAPTURE(i);
    auto f = original;
    switch (i % 3) {
      case 0: {  // flip bytes in the headers (where the loader looks)
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) f[rng() % std::min<size_t>(f.size(), 64 + 56 * 4)] ^= static_cast<uint8_t>(rng());
        break;
      }
      case 1:  // truncate anywhere
        f.resize(rng() % f.size());
        break;
      default: {  // overwrite a 64-bit header field with an extreme value
        static const uint64_t extremes[] = {0, 1, ~0ull, 0x8000000000000000ull, 0xffffffff80000000ull, 0x100000};
        size_t off = (rng() % ((64 + 56 * 3) / 8)) * 8;
        uint64_t v = extremes[rng() % 6];
        std::memcpy(f.data() + off, &v, 8);
      }
    }
    MachineMemory machine(80ull << 20);
    EventLog log;
    VmConfig cfg;
    cfg.max_instructions = 20000;
    auto vm = Vm::create(machine, cfg, log);
    REQUIRE(vm.ok());
    auto r = load_elf_kernel(**vm, f, KernelBoot{});
    if (!r.ok()) {
      CHECK(r.error().message.rfind("kernel ELF: ", 0) == 0);
      ++refused;
      continue;
    }
    ++loaded;
    auto out = (*vm)->run();
    INFO("end: ", run_end_name(out.end), " ", out.detail);
    CHECK(out.end != RunEnd::HostError);
  }
  MESSAGE("mutated kernels: ", refused, " refused, ", loaded, " loaded and run");
  CHECK(refused > 0);
  CHECK(loaded > 0);
}
