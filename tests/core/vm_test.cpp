#include <doctest/doctest.h>

#include <functional>
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

// A periodic timer on the VM that raises `vector` every `period` ns, as a device would.
struct PeriodicIrq {
  PeriodicIrq(Vm& v, uint8_t vec, uint64_t p) : vm(v), vector(vec), period(p) {}
  Vm& vm;
  uint8_t vector;
  uint64_t period;
  uint64_t expiries = 0;
  std::function<void()> on_expiry;
  void arm(uint64_t deadline) {
    vm.arm_timer(
        deadline,
        [this, deadline] {
          ++expiries;
          vm.raise_interrupt(vector);
          if (on_expiry) on_expiry();
          arm(deadline + period);
        },
        [this] { return int{vector}; });
  }
};

// An interrupt gate for `vector` in an IDT at 0x20000 (the handler at `handler`, CS 0x08).
void set_gate(FlatVm& t, uint8_t vector, uint64_t handler) {
  uint8_t gate[16] = {};
  gate[0] = handler & 0xff;
  gate[1] = (handler >> 8) & 0xff;
  gate[2] = 0x08;
  gate[5] = 0x8e;
  gate[6] = (handler >> 16) & 0xff;
  gate[7] = (handler >> 24) & 0xff;
  REQUIRE(t.vm->ram().write(0x20000 + 16ull * vector, gate, sizeof gate));
  t.cpu().set_idtr({0x20000, 0xfff});
}

// sti ; hlt ; jmp $   (a handler at 0x100010: jmp $)
const std::vector<uint8_t> kStiHlt = {0xfb, 0xf4, 0xeb, 0xfe, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
                                      0x90, 0x90, 0x90, 0x90, 0x90, 0xeb, 0xfe};
// Bounds the runs of these tests: before the fix a masked HLT never ended without one.
constexpr uint64_t kSlice = 100'000'000;
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

TEST_CASE("Vm: HLT with IF = 1 halts forever when the TPR masks every interrupt a timer can raise") {
  FlatVm t(kStiHlt);
  t.vm->set_task_priority_class(4);
  PeriodicIrq timer{*t.vm, 0x44, 1000};  // class 4: held back by the TPR at every expiry
  timer.arm(1000);
  RunOutcome out = t.vm->run(kSlice);
  CHECK(out.end == RunEnd::HaltedForever);
  CHECK(out.detail.find("TPR") != std::string::npos);
  CHECK(t.vm->now_ns() == 2);  // decided at the HLT, not after skipping through expiries
  CHECK(t.log.counts_by_kind().count("halt_forever") == 1);
}

TEST_CASE("Vm: a halted vCPU sleeps through masked expiries until a timer raises what the TPR lets through") {
  VmConfig config;
  config.max_instructions = 100;  // the handler spins
  FlatVm t(kStiHlt, config);
  set_gate(t, 0x80, 0x100010);
  t.vm->set_task_priority_class(4);
  PeriodicIrq masked{*t.vm, 0x44, 1000};
  masked.arm(1000);
  bool fired = false;
  t.vm->arm_timer(
      50'000,
      [&] {
        fired = true;
        t.vm->raise_interrupt(0x80);
      },
      [] { return 0x80; });
  RunOutcome out = t.vm->run(kSlice);
  CHECK(out.end == RunEnd::BudgetExhausted);
  CHECK(fired);
  CHECK(masked.expiries >= 49);
  CHECK(t.vm->counters().interrupts_delivered == 1);  // 0x80 woke it; 0x44 is still pending
  CHECK(t.cpu().rip() == 0x100010);
}

TEST_CASE("Vm: a stop request and the end of the slice end the run of a halted vCPU") {
  FlatVm t(kStiHlt);
  t.vm->set_task_priority_class(4);
  PeriodicIrq masked{*t.vm, 0x44, 1000};
  masked.on_expiry = [&] {
    if (masked.expiries == 5) t.cpu().request_stop();  // as a watchdog thread or the GUI would
  };
  masked.arm(1000);
  t.vm->arm_timer(1'000'000'000'000, [] {}, [] { return 0x80; });  // could wake it, much later
  RunOutcome out = t.vm->run(kSlice);
  CHECK(out.end == RunEnd::Stopped);
  CHECK(t.vm->now_ns() == 5000);
  out = t.vm->run(20'000);
  CHECK(out.end == RunEnd::SliceEnded);
  CHECK(t.vm->now_ns() == 20'000);
  CHECK(masked.expiries == 19);  // the one due at 20,000 fires in the next slice
}

TEST_CASE("Vm: a timer that does not say what it raises may wake a halted vCPU") {
  FlatVm t(kStiHlt);
  t.vm->set_task_priority_class(15);
  t.vm->arm_timer(5000, [] {}, {});
  RunOutcome out = t.vm->run(kSlice);
  CHECK(out.end == RunEnd::HaltedForever);  // after it fired: nothing is armed any more
  CHECK(t.vm->now_ns() == 5000);
}
