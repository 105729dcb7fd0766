#include <doctest/doctest.h>

#include "core/cpu/unicorn_internals.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
constexpr uint8_t NOP = 0x90;
const std::vector<uint8_t> kRdtsc = {0x0f, 0x31};
const std::vector<uint8_t> kJmpSelf = {0xeb, 0xfe};

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
}  // namespace

TEST_CASE("UnicornCpu: internals are found and verified by probing") {
  const auto& in = unicorn_internals();
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.error().message));
  CHECK(in.value().segments == in.value().hflags + 8);
  CHECK(in.value().context_size > in.value().old_exception);
}

TEST_CASE("UnicornCpu: a trap point stops precisely before the instruction, mid-block") {
  FlatVm t(cat({{NOP, NOP, NOP}, kRdtsc, kJmpSelf}));
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::TrapPoint);
  CHECK(s.trap == TrapKind::Rdtsc);
  CHECK(s.rip == 0x100003);
  CHECK(t.cpu().instructions_retired() == 3);
  CHECK(t.cpu().trap_instruction().mnemonic() == ZYDIS_MNEMONIC_RDTSC);
}

TEST_CASE("UnicornCpu: pass_trap_once lets the instruction run natively once") {
  FlatVm t(cat({kRdtsc, {0xeb, 0xfc}}));  // rdtsc ; jmp back to it
  REQUIRE(t.cpu().run(1000).kind == StopKind::TrapPoint);
  t.cpu().pass_trap_once();
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::TrapPoint);
  CHECK(s.rip == 0x100000);
  CHECK(t.cpu().instructions_retired() == 2);  // rdtsc + jmp
}

TEST_CASE("UnicornCpu: the retired count is exact when a fault leaves a block early") {
  // nop x3 ; xor ecx, ecx ; div ecx (#DE)
  FlatVm t({NOP, NOP, NOP, 0x31, 0xc9, 0xf7, 0xf1, 0xeb, 0xfe});
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::Exception);
  CHECK(s.vector == vec::DE);
  CHECK(s.rip == 0x100005);
  CHECK(t.cpu().instructions_retired() == 4);
}

TEST_CASE("UnicornCpu: a second and third fault are not escalated by Unicorn's latch") {
  FlatVm t({0x31, 0xc9, 0xf7, 0xf1, 0xeb, 0xfe});
  for (int i = 0; i < 3; ++i) {
    t.cpu().set_rip(0x100000);
    StopReason s = t.cpu().run(1000);
    REQUIRE(s.kind == StopKind::Exception);
    CHECK(s.vector == vec::DE);
  }
}

TEST_CASE("UnicornCpu: the budget stops at the first block boundary at or after it") {
  // mov ecx, 1000000 ; loop: dec ecx ; jnz loop ; jmp $
  FlatVm t({0xb9, 0x40, 0x42, 0x0f, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xeb, 0xfe});
  StopReason s = t.cpu().run(1001);
  REQUIRE(s.kind == StopKind::BudgetExhausted);
  CHECK(t.cpu().instructions_retired() >= 1001);
  CHECK(t.cpu().instructions_retired() <= 1003);
  uint64_t first = t.cpu().instructions_retired();
  FlatVm u({0xb9, 0x40, 0x42, 0x0f, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xeb, 0xfe});
  u.cpu().run(1001);
  CHECK(u.cpu().instructions_retired() == first);  // deterministic
}

TEST_CASE("UnicornCpu: self-modifying code that writes a trapped instruction is caught") {
  // mov word [rip+2], 0x310f ; jmp +0 ; nop ; nop : the nops become rdtsc
  FlatVm t({0x66, 0xc7, 0x05, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x31, 0xeb, 0x00, NOP, NOP, 0xeb, 0xfe});
  // Run the loop once so the nops are translated and scanned, then let the store happen.
  StopReason s = t.cpu().run(100);
  REQUIRE(s.kind == StopKind::TrapPoint);
  CHECK(s.trap == TrapKind::Rdtsc);
  CHECK(s.rip == 0x10000b);
}

TEST_CASE("UnicornCpu: set_segment changes the CPL and privileged instructions then fault") {
  FlatVm t({0xfa, 0xeb, 0xfe});  // cli
  SegmentState cs{0x2b, 0, 0xffffffff, 0x00affb00};
  t.cpu().set_segment(Seg::Cs, cs);
  CHECK(t.cpu().cpl() == 3);
  CHECK(t.cpu().segment(Seg::Cs) == cs);
  StopReason s = t.cpu().run(100);
  REQUIRE(s.kind == StopKind::Exception);
  CHECK(s.vector == vec::GP);
  CHECK(s.error_code == 0);
}

TEST_CASE("UnicornCpu: CR2 writes leave CR3 alone and CR8 is a 4-bit TPR") {
  FlatVm t({0xeb, 0xfe});
  uint64_t cr3 = t.cpu().cr(3);
  t.cpu().set_cr(2, 0xdeadb000);
  CHECK(t.cpu().cr(2) == 0xdeadb000);
  CHECK(t.cpu().cr(3) == cr3);
  t.cpu().set_cr(8, 0x1f);
  CHECK(t.cpu().cr(8) == 0xf);
}

TEST_CASE("UnicornCpu: save and restore return to the same state") {
  FlatVm t({0x48, 0xff, 0xc0, 0xeb, 0xfb});  // inc rax ; jmp back
  t.cpu().run(100);
  CpuSnapshot snap = t.cpu().save();
  uint64_t rax = t.cpu().gpr(Gpr::Rax), rip = t.cpu().rip(), retired = t.cpu().instructions_retired();
  t.cpu().run(500);
  CHECK(t.cpu().gpr(Gpr::Rax) != rax);
  t.cpu().restore(snap);
  CHECK(t.cpu().gpr(Gpr::Rax) == rax);
  CHECK(t.cpu().rip() == rip);
  CHECK(t.cpu().instructions_retired() == retired);
}

TEST_CASE("UnicornCpu: a refused TLB fill is a memory fault at the instruction with the page") {
  // mov rax, [0x200000000] : beyond the 4 GiB identity map (PML4 entry 0 only covers 512 GiB,
  // but PDPT entries 4.. are not present)
  FlatVm t({0x48, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xeb, 0xfe});
  StopReason s = t.cpu().run(100);
  REQUIRE(s.kind == StopKind::MemoryFault);
  CHECK(s.rip == 0x100000);
  CHECK(s.fault_page == 0x200000000ull);
  CHECK(s.fault_access == Access::Read);
  CHECK(s.error_code == 0);
}

TEST_CASE("UnicornCpu: code rewritten after it was translated is rescanned for trap points") {
  // call target ; mov word [target], 0x310f ; call target ; jmp $ ; target: nop ; nop ; ret
  FlatVm t({0xe8, 0x11, 0x00, 0x00, 0x00,                          // 0x100000
            0x66, 0xc7, 0x04, 0x25, 0x16, 0x00, 0x10, 0x00, 0x0f, 0x31,  // 0x100005
            0xe8, 0x02, 0x00, 0x00, 0x00,                          // 0x10000f
            0xeb, 0xfe,                                            // 0x100014
            NOP, NOP, 0xc3});                                      // 0x100016
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::TrapPoint);
  CHECK(s.trap == TrapKind::Rdtsc);
  CHECK(s.rip == 0x100016);
  CHECK(t.cpu().instructions_retired() == 6);  // call nop nop ret mov call
  CHECK(t.cpu().counters().code_invalidations >= 1);
}

TEST_CASE("UnicornCpu: a budget stop inside a chained loop reports the block it stopped before") {
  // rdtsc (a trap site: code hooks exist) ; call f ; call f ; jmp $
  // f: mov ecx, 100000 ; loop: dec ecx ; jnz loop ; ret
  // In the second call every block is chained from f's entry, whose address is the last RIP
  // Unicorn wrote back; with code hooks present Unicorn does not write RIP back when a
  // block-hook stop leaves a chained block, so the adapter must (found by the guest kernel).
  FlatVm t({0x0f, 0x31, 0xe8, 0x07, 0x00, 0x00, 0x00, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0xfe,
            0xb9, 0xa0, 0x86, 0x01, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xc3});
  REQUIRE(t.cpu().run(1000).kind == StopKind::TrapPoint);
  t.cpu().set_rip(0x100002);
  StopReason s = t.cpu().run(250000);  // the first call takes ~200,000 instructions
  REQUIRE(s.kind == StopKind::BudgetExhausted);
  CHECK(s.rip == 0x100013);  // the loop block, not f's entry
  CHECK(t.cpu().rip() == 0x100013);
  uint64_t rcx = t.cpu().gpr(Gpr::Rcx);
  CHECK(rcx > 0);
  CHECK(rcx < 100000);
  for (int i = 0; i < 100 && t.cpu().rip() != 0x10000c; ++i) t.cpu().run(10000);
  CHECK(t.cpu().rip() == 0x10000c);
  CHECK(t.cpu().gpr(Gpr::Rcx) == 0);
}

TEST_CASE("UnicornCpu: the interrupt-window stop comes right after the instruction that sets IF") {
  // cli ; nop ; nop ; sti ; nop (STI's shadow) ; nop ; jmp $
  const std::vector<uint8_t> sti = {0xfa, NOP, NOP, 0xfb, NOP, NOP, 0xeb, 0xfe};
  FlatVm t(sti);
  t.cpu().set_interrupt_window_stop(true);
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::InterruptWindow);
  CHECK(s.rip == 0x100004);  // before the instruction in the shadow, which still holds
  CHECK(t.cpu().instructions_retired() == 4);
  CHECK(t.cpu().interrupt_shadow());
  t.cpu().set_interrupt_window_stop(false);
  s = t.cpu().run(1);  // the shadow's one instruction is a block of its own
  REQUIRE(s.kind == StopKind::BudgetExhausted);
  CHECK(s.rip == 0x100005);
  CHECK(!t.cpu().interrupt_shadow());

  // pushfq ; or qword [rsp], 0x200 ; popfq ; nop ; jmp $   (IF is 0 at the start)
  FlatVm p({0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x02, 0x00, 0x00, 0x9d, NOP, 0xeb, 0xfe});
  p.cpu().set_interrupt_window_stop(true);
  s = p.cpu().run(1000);
  REQUIRE(s.kind == StopKind::InterruptWindow);
  CHECK(s.rip == 0x10000a);  // right after POPFQ: it has no shadow
  CHECK(p.cpu().instructions_retired() == 3);

  FlatVm off(sti);  // without the watch the same code runs on
  CHECK(off.cpu().run(1000).kind == StopKind::BudgetExhausted);
}

TEST_CASE("UnicornCpu: begin_interrupt_shadow holds interrupts for exactly one instruction") {
  FlatVm t({NOP, NOP, NOP, 0xeb, 0xfe});
  t.cpu().begin_interrupt_shadow();
  CHECK(t.cpu().interrupt_shadow());
  StopReason s = t.cpu().run(1);
  REQUIRE(s.kind == StopKind::BudgetExhausted);
  CHECK(s.rip == 0x100001);
  CHECK(!t.cpu().interrupt_shadow());
}

TEST_CASE("UnicornCpu: take_stop_request reports a request once") {
  FlatVm t({NOP, 0xeb, 0xfe});
  CHECK(!t.cpu().take_stop_request());
  t.cpu().request_stop();
  CHECK(t.cpu().take_stop_request());
  CHECK(!t.cpu().take_stop_request());
  CHECK(t.cpu().run(100).kind == StopKind::BudgetExhausted);  // taken: the next run is not stopped
}

TEST_CASE("UnicornCpu: INVLPG in a large page the TLB holds flushes it all, elsewhere nothing more") {
  // The flat machine maps everything with 2 MiB pages.
  // mov rax, [0x400000] ; invlpg [0x600000] ; invlpg [0x401000] ; jmp $
  FlatVm t({0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00,
            0x0f, 0x01, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00,
            0x0f, 0x01, 0x3c, 0x25, 0x00, 0x10, 0x40, 0x00, 0xeb, 0xfe});
  const uint64_t flushes = t.cpu().counters().tlb_flushes;
  REQUIRE(t.cpu().run(1000).kind == StopKind::BudgetExhausted);
  // 0x600000 lies in a 2 MiB page nothing has touched: the CPU's own INVLPG is enough there.
  CHECK(t.cpu().counters().large_page_invlpgs == 1);
  CHECK(t.cpu().counters().tlb_flushes == flushes + 1);
  // The same for INVLPG the VMM has the CPU execute elsewhere (a translator's copy).
  t.cpu().prepare_invlpg(0x800000);
  CHECK(t.cpu().counters().large_page_invlpgs == 1);
  t.cpu().prepare_invlpg(0x101234);  // the code's own page, filled for the fetches
  CHECK(t.cpu().counters().large_page_invlpgs == 2);
  CHECK(t.cpu().counters().tlb_flushes == flushes + 2);
  t.cpu().prepare_invlpg(0x101234);  // nothing filled since that flush
  CHECK(t.cpu().counters().large_page_invlpgs == 2);
}

namespace {
// A device that wants the CPU to stop after each write to it (as the VM does when a write
// lets an interrupt through), recording what it saw.
struct StopAfterWrite : MmioHandler {
  UnicornCpu* cpu = nullptr;
  struct Write {
    uint64_t offset;
    unsigned size;
    uint64_t value, retired;
  };
  std::vector<Write> writes;
  uint64_t mmio_read(uint64_t, unsigned) override { return 0x10; }
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override {
    writes.push_back({offset, size, value, cpu->instructions_retired()});
    cpu->request_stop_after_mmio_write();
  }
};
}  // namespace

TEST_CASE("UnicornCpu: a device write that asks for a stop ends the run right after its instruction") {
  // mov ebx, 0xfee00000 ; nop ; mov dword [rbx + 0x80], 0x30 ; nop ;
  // add dword [rbx + 0x80], 1 ; nop ; jmp $
  FlatVm t({0xbb, 0x00, 0x00, 0xe0, 0xfe, NOP, 0xc7, 0x83, 0x80, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, NOP,
            0x83, 0x83, 0x80, 0x00, 0x00, 0x00, 0x01, NOP, 0xeb, 0xfe});
  StopAfterWrite dev;
  dev.cpu = &t.cpu();
  REQUIRE(t.vm->map_mmio(0xfee00000, 0x1000, dev).ok());
  // A MOV: performed by the adapter at a stop before it, then the stop after it.
  StopReason s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::MmioSync);
  CHECK(s.rip == 0x100010);
  CHECK(t.cpu().rip() == 0x100010);
  CHECK(t.cpu().instructions_retired() == 3);
  REQUIRE(dev.writes.size() == 1);
  CHECK(dev.writes[0].offset == 0x80);
  CHECK(dev.writes[0].size == 4);
  CHECK(dev.writes[0].value == 0x30);
  CHECK(dev.writes[0].retired == 2);  // the time at the writing instruction
  CHECK(t.cpu().counters().mmio_writes_emulated == 1);
  // Any other instruction runs alone: read, add, write, and the same stop after it.
  s = t.cpu().run(1000);
  REQUIRE(s.kind == StopKind::MmioSync);
  CHECK(s.rip == 0x100018);
  CHECK(t.cpu().instructions_retired() == 5);
  REQUIRE(dev.writes.size() == 2);
  CHECK(dev.writes[1].value == 0x11);
  CHECK(dev.writes[1].retired == 4);
  CHECK(t.cpu().counters().mmio_writes_stepped == 1);
  CHECK(!t.cpu().interrupt_shadow());
  CHECK(t.cpu().run(100).kind == StopKind::BudgetExhausted);
  CHECK(dev.writes.size() == 2);
}

TEST_CASE("UnicornCpu: a device sees the same writes whether the adapter performs them or Unicorn does") {
  // The same six MOVs to a precise window (rbx) and to an ordinary one (rcx): sizes 8, 4, 2,
  // 1 (AH), imm8 and a sign-extended imm32; an 8-byte store reaches a device as two 4-byte
  // writes, as Unicorn delivers it.
  const std::vector<uint8_t> stores_rbx = {0x48, 0x89, 0x43, 0x10, 0x89, 0x43, 0x20, 0x66, 0x89, 0x43, 0x30,
                                           0x88, 0x63, 0x40, 0xc6, 0x43, 0x50, 0x7f,
                                           0x48, 0xc7, 0x43, 0x60, 0xfe, 0xff, 0xff, 0xff};
  std::vector<uint8_t> stores_rcx = stores_rbx;
  for (size_t i : {2u, 5u, 9u, 12u, 15u, 20u}) stores_rcx[i] -= 2;  // ModRM: [rbx + d8] -> [rcx + d8]
  FlatVm t(cat({{0xbb, 0x00, 0x00, 0xe0, 0xfe, 0xb9, 0x00, 0x00, 0xd0, 0xfe},  // mov ebx, ...; mov ecx, ...
                {0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11},  // mov rax, 0x1122334455667788
                stores_rbx, stores_rcx, kJmpSelf}));
  struct Recorder : MmioHandler {
    std::vector<std::tuple<uint64_t, unsigned, uint64_t>> writes;
    uint64_t mmio_read(uint64_t, unsigned) override { return 0; }
    void mmio_write(uint64_t offset, unsigned size, uint64_t value) override { writes.emplace_back(offset, size, value); }
  } precise, plain;
  REQUIRE(t.vm->map_mmio(0xfee00000, 0x1000, precise).ok());
  t.vm->mmu().add_mmio_window(0xfed00000, 0x1000);
  REQUIRE(t.cpu().map_mmio(0xfed00000, 0x1000, plain, /*precise_writes=*/false).ok());
  REQUIRE(t.cpu().run(1000).kind == StopKind::BudgetExhausted);
  CHECK(t.cpu().counters().mmio_writes_emulated == 6);
  CHECK(precise.writes.size() == 8);  // two 8-byte stores as two writes each
  CHECK(precise.writes == plain.writes);
  CHECK(precise.writes.front() == std::make_tuple(uint64_t{0x10}, 4u, uint64_t{0x55667788}));
  CHECK(precise.writes[3] == std::make_tuple(uint64_t{0x30}, 2u, uint64_t{0x7788}));
  CHECK(precise.writes[4] == std::make_tuple(uint64_t{0x40}, 1u, uint64_t{0x77}));
  CHECK(precise.writes.back() == std::make_tuple(uint64_t{0x64}, 4u, uint64_t{0xffffffff}));
}
