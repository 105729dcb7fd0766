#include <doctest/doctest.h>

#include <vector>

#include "gui/code_window.hpp"

using namespace hvsim;
using namespace hvsim::gui;

TEST_CASE("CodeWindow: decodes back to RIP and marks the trap points the policy stops at") {
  // mov rax, rdx / rdtsc / out 0xf4, al / hlt / nop
  const std::vector<uint8_t> code = {0x48, 0x89, 0xd0, 0x0f, 0x31, 0xe6, 0xf4, 0xf4, 0x90};
  const uint64_t base = 0x100000, rip = base + 5;  // at the OUT
  const TrapSet policy{TrapKind::Out};
  const auto lines = disassemble_window(code.data(), code.size(), base, rip, 8, 8, policy);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].address == base);
  CHECK(lines[0].text == "mov rax, rdx");
  CHECK(lines[0].bytes == "48 89 d0");
  CHECK_FALSE(lines[0].trap);
  CHECK(lines[1].trap == TrapKind::Rdtsc);
  CHECK_FALSE(lines[1].trapped);  // a trap-point kind this policy lets run
  CHECK(lines[2].at_rip);
  CHECK(lines[2].trap == TrapKind::Out);
  CHECK(lines[2].trapped);
  CHECK(lines[3].trap == TrapKind::Hlt);
  CHECK(lines[4].text == "nop");
}

TEST_CASE("CodeWindow: at most `before` instructions before RIP, and bad bytes end the window") {
  const std::vector<uint8_t> code = {0x90, 0x90, 0x90, 0x90, 0x0f, 0xff};  // 0f ff: not an instruction
  const auto lines = disassemble_window(code.data(), code.size(), 0x1000, 0x1003, 2, 5, TrapSet{});
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].address == 0x1001);
  CHECK(lines[2].at_rip);
  CHECK_FALSE(lines[3].valid);
  CHECK(lines[3].text == "(not an instruction)");
  CHECK(disassemble_window(code.data(), code.size(), 0x1000, 0x2000, 2, 2, TrapSet{}).empty());
}

TEST_CASE("CodeWindow: guest code is read through the guest's tables without touching them") {
  MachineMemory machine(4ull << 20);
  auto range = machine.allocate(2ull << 20, "g");
  REQUIRE(range);
  GuestRam ram(*range);
  // Identity map of the first 2 MiB: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000 (2 MiB page).
  uint64_t pml4 = 0x2003, pdpt = 0x3003, pd = 0x83;
  ram.write(0x1000, &pml4, 8);
  ram.write(0x2000, &pdpt, 8);
  ram.write(0x3000, &pd, 8);
  const uint8_t insn[] = {0x0f, 0x31};
  ram.write(0x10000, insn, sizeof insn);
  PagingControl ctl;
  ctl.cr0 = cr0::PG | cr0::PE;
  ctl.cr3 = 0x1000;
  ctl.cr4 = cr4::PAE;
  ctl.efer = efer::LME | efer::LMA;
  uint8_t out[2] = {};
  CHECK(read_guest_code(ram, ctl, 0x10000, out, 2) == 2);
  CHECK(out[1] == 0x31);
  CHECK(*ram.load<uint64_t>(0x3000) == 0x83);  // no accessed bit set by the visualizer
  CHECK(read_guest_code(ram, ctl, 0x40000000, out, 2) == 0);  // not mapped
  const auto lines = code_around(ram, ctl, 0x10000, 4, 0, TrapSet{TrapKind::Rdtsc});
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().at_rip);
  CHECK(lines.back().trapped);
}
