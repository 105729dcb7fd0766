// Fuzzing the guest kernel's program loader (exec): mutated and truncated copies of a real
// user program, run by init, must be refused by exec or run and end like any process (exit,
// killed by a fault, or spinning until the budget), never panic the kernel or wedge the VM.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "app/initrd.hpp"
#include "app/machine_builder.hpp"

using namespace hvsim;

namespace {
std::vector<uint8_t> file(const std::string& path) {
  auto bytes = read_file(path, 64u << 20);
  REQUIRE_MESSAGE(bytes.ok(), "not built: ", path);
  return *bytes;
}

constexpr int kKernelPanicStatus = 3;
}  // namespace

TEST_CASE("Fuzz: mutated programs are refused by exec or end as processes, the kernel survives") {
  const auto kernel = file(HVSIM_KERNEL_PATH);
  const auto init = file(HVSIM_USER_DIR "/init");
  const auto original = file(HVSIM_USER_DIR "/compute");
  std::mt19937_64 rng(0x9e0c5eed);
  unsigned refused = 0, ran = 0, spun = 0;
  for (int i = 0; i < 60; ++i) {
    CAPTURE(i);
    auto f = original;
    switch (i % 3) {
      case 0: {  // flip bytes in the ELF and program headers
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) f[rng() % (64 + 56 * 4)] ^= static_cast<uint8_t>(rng());
        break;
      }
      case 1:  // truncate anywhere
        f.resize(rng() % f.size());
        break;
      default: {  // an extreme value in a 64-bit header field
        static const uint64_t extremes[] = {0, 1, ~0ull, 0x8000000000000000ull, 0x00007ffffffff000ull, 0x1000};
        size_t off = (rng() % ((64 + 56 * 3) / 8)) * 8;
        uint64_t v = extremes[rng() % 6];
        std::memcpy(f.data() + off, &v, 8);
      }
    }
    auto initrd = pack_initrd({{"init", init}, {"prog", f}});
    REQUIRE(initrd.ok());
    MachineOptions opt;
    opt.kernel_path = "kernel.elf";
    opt.cmdline = "init prog";
    opt.max_instructions = 30'000'000;
    auto machine = build_machine(opt, kernel, *initrd);
    REQUIRE(machine.ok());
    std::string console;
    (*machine)->vm->set_console([&](char c) {
      if (console.size() < (1u << 20)) console.push_back(c);
    });
    RunOutcome out = (*machine)->vm->run();
    INFO("end: ", run_end_name(out.end), " ", out.detail, "\n", console);
    CHECK(console.find("kernel panic") == std::string::npos);
    if (out.end == RunEnd::BudgetExhausted) {  // a program that loops; the kernel still ticks
      ++spun;
      continue;
    }
    REQUIRE(out.end == RunEnd::Exited);
    CHECK(out.exit_status != kKernelPanicStatus);
    CHECK(console.find("init: 1 program run") != std::string::npos);  // init went on
    if (console.find("init: cannot run prog") != std::string::npos) ++refused;
    else ++ran;
  }
  MESSAGE("mutated programs: ", refused, " refused by exec, ", ran, " ran, ", spun, " spun to the budget");
  CHECK(refused > 0);
  CHECK(ran > 0);
}
