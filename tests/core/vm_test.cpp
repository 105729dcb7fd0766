#include <doctest/doctest.h>

#include <utility>
#include <vector>

#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
struct RecordingMmio : MmioHandler {
  std::vector<std::pair<uint64_t, unsigned>> reads;
  std::vector<std::tuple<uint64_t, unsigned, uint64_t>> writes;
  uint64_t mmio_read(uint64_t offset, unsigned size) override {
    reads.emplace_back(offset, size);
    return 0x11223344;
  }
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override { writes.emplace_back(offset, size, value); }
};
}  // namespace

TEST_CASE("Vm: an MMIO device sees offsets inside its window") {
  // mov esi, 0xfee00000 ; mov eax, [rsi+0x20] ; mov [rsi+0xb0], eax ; jmp $
  FlatVm t({0xbe, 0x00, 0x00, 0xe0, 0xfe, 0x8b, 0x46, 0x20, 0x89, 0x86, 0xb0, 0x00, 0x00, 0x00, 0xeb, 0xfe});
  RecordingMmio dev;
  REQUIRE(t.vm->map_mmio(0xfee00000, 0x1000, dev).ok());
  CHECK(!t.vm->map_mmio(0x1000, 0x1000, dev).ok());  // inside RAM: refused
  t.cpu().run(100);
  REQUIRE(dev.reads.size() == 1);
  CHECK(dev.reads[0] == std::make_pair<uint64_t, unsigned>(0x20, 4));
  REQUIRE(dev.writes.size() == 1);
  CHECK(std::get<0>(dev.writes[0]) == 0xb0);
  CHECK(std::get<2>(dev.writes[0]) == 0x11223344);
}

TEST_CASE("Vm: SWAPGS exchanges GS base and KERNEL_GS_BASE") {
  FlatVm t({0x0f, 0x01, 0xf8, 0xeb, 0xfe});  // swapgs ; jmp $
  t.cpu().set_msr(msr::IA32_GS_BASE, 0x1111000);
  t.cpu().set_msr(msr::IA32_KERNEL_GS_BASE, 0x2222000);
  t.cpu().run(50);
  CHECK(t.cpu().msr(msr::IA32_GS_BASE) == 0x2222000);
  CHECK(t.cpu().msr(msr::IA32_KERNEL_GS_BASE) == 0x1111000);
}

TEST_CASE("Vm: an access outside RAM and MMIO reads all ones and is logged") {
  // mov rax, [0x20000000] (512 MiB, beyond 64 MiB of RAM) ; out 0xf4, al
  VmConfig config;
  config.max_instructions = 10;
  FlatVm t({0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x20, 0xe6, 0xf4, 0xeb, 0xfe}, config);
  auto out = t.vm->run();
  CHECK(out.end == RunEnd::BudgetExhausted);
  CHECK(t.cpu().gpr(Gpr::Rax) == ~0ull);
  CHECK(t.log.counts_by_kind().count("isolation") == 1);
}
