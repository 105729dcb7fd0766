#include <doctest/doctest.h>

#include "core/cpu/event_delivery.hpp"
#include "vm_fixture.hpp"

using namespace hvsim;
using hvsim::test::FlatVm;

namespace {
constexpr uint64_t kIdt = 0x20000;

void set_gate(GuestRam& ram, uint8_t vector, uint64_t handler, unsigned type, unsigned dpl, unsigned ist = 0,
              bool present = true) {
  uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (uint64_t(ist) << 32) | (uint64_t(type) << 40) |
                (uint64_t(dpl) << 45) | (uint64_t(present) << 47) | (((handler >> 16) & 0xffff) << 48);
  uint64_t hi = handler >> 32;
  ram.write(kIdt + vector * 16, &lo, 8);
  ram.write(kIdt + vector * 16 + 8, &hi, 8);
}

uint64_t q(GuestRam& ram, uint64_t gpa) { return *ram.load<uint64_t>(gpa); }
}  // namespace

TEST_CASE("EventDelivery: an interrupt gate pushes the 64-bit frame and clears IF") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), 0x30, 0x101000, 0xe, 0);
  cpu.set_gpr(Gpr::Rsp, 0x7fff8);  // not 16-byte aligned: delivery aligns it
  cpu.set_rflags(rflags::kFixed1 | rflags::IF | rflags::CF);
  Event ev;
  ev.vector = 0x30;
  ev.type = EventType::External;
  ev.return_rip = ev.instruction_rip = 0x100000;
  auto out = deliver_event(cpu, t.vm->linear(), ev);
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(cpu.rip() == 0x101000);
  CHECK(cpu.gpr(Gpr::Rsp) == 0x7fff0 - 40);
  CHECK((cpu.rflags() & rflags::IF) == 0);
  auto& ram = t.vm->ram();
  uint64_t sp = cpu.gpr(Gpr::Rsp);
  CHECK(q(ram, sp) == 0x100000);            // RIP
  CHECK(q(ram, sp + 8) == 0x08);            // CS
  CHECK((q(ram, sp + 16) & rflags::IF));    // RFLAGS as it was
  CHECK(q(ram, sp + 24) == 0x7fff8);        // RSP
  CHECK(q(ram, sp + 32) == 0x10);           // SS
}

TEST_CASE("EventDelivery: from CPL3 the stack switches to RSP0 and SS becomes NULL") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), vec::GP, 0x101000, 0xe, 0);
  cpu.set_segment(Seg::Cs, {0x2b, 0, 0xffffffff, 0x00affb00});
  cpu.set_segment(Seg::Ss, {0x23, 0, 0xffffffff, 0x00cff300});
  cpu.set_gpr(Gpr::Rsp, 0x60000);
  auto out = deliver_event(cpu, t.vm->linear(), hardware_exception(vec::GP, 0x100000, 0x1230));
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(cpu.cpl() == 0);
  CHECK(cpu.segment(Seg::Ss).selector == 0);
  CHECK(cpu.gpr(Gpr::Rsp) == 0x80000 - 48);
  CHECK(q(t.vm->ram(), 0x80000 - 48) == 0x1230);   // error code
  CHECK(q(t.vm->ram(), 0x80000 - 32) == 0x2b);     // CS of the interrupted code
  CHECK(q(t.vm->ram(), 0x80000 - 16) == 0x60000);  // its RSP
}

TEST_CASE("EventDelivery: INT n through a DPL0 gate from CPL3 is #GP(vector*8+2)") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), 0x81, 0x102000, 0xe, 0);
  set_gate(t.vm->ram(), vec::GP, 0x101000, 0xe, 0);
  cpu.set_segment(Seg::Cs, {0x2b, 0, 0xffffffff, 0x00affb00});
  Event ev;
  ev.vector = 0x81;
  ev.type = EventType::SoftwareInterrupt;
  ev.return_rip = 0x100002;
  ev.instruction_rip = 0x100000;
  auto out = deliver_event(cpu, t.vm->linear(), ev);
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(out.delivered.vector == vec::GP);
  CHECK(*out.delivered.error_code == 0x81u * 8 + 2);
  CHECK(cpu.rip() == 0x101000);
  CHECK(q(t.vm->ram(), cpu.gpr(Gpr::Rsp) + 8) == 0x100000);  // points at the INT
}

TEST_CASE("EventDelivery: IST stacks are used even without a privilege change") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), vec::DF, 0x101000, 0xe, 0, 1);
  auto out = deliver_event(cpu, t.vm->linear(), hardware_exception(vec::DF, 0x100000, 0));
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(cpu.gpr(Gpr::Rsp) == 0x70000 - 48);
}

TEST_CASE("EventDelivery: contributory faults in delivery escalate to #DF, then triple fault") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), vec::DF, 0x101000, 0xe, 0);
  set_gate(t.vm->ram(), vec::GP, 0x101000, 0xe, 0, 0, false);  // #GP gate not present -> #NP
  auto out = deliver_event(cpu, t.vm->linear(), hardware_exception(vec::GP, 0x100000, 0));
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(out.delivered.vector == vec::DF);
  cpu.set_idtr({kIdt, 0});  // nothing deliverable at all
  auto tf = deliver_event(cpu, t.vm->linear(), hardware_exception(vec::DE, 0x100000));
  CHECK(tf.result == DeliveryResult::TripleFault);
}

TEST_CASE("EventDelivery: a benign first event lets the second fault be delivered instead") {
  FlatVm t({0xeb, 0xfe});
  auto& cpu = t.cpu();
  cpu.set_idtr({kIdt, 0xfff});
  set_gate(t.vm->ram(), 0x40, 0x101000, 0xe, 0, 0, false);  // external interrupt, gate absent
  set_gate(t.vm->ram(), vec::NP, 0x103000, 0xe, 0);
  Event ev;
  ev.vector = 0x40;
  ev.type = EventType::External;
  ev.return_rip = ev.instruction_rip = 0x100000;
  auto out = deliver_event(cpu, t.vm->linear(), ev);
  REQUIRE(out.result == DeliveryResult::Delivered);
  CHECK(out.delivered.vector == vec::NP);
  CHECK(*out.delivered.error_code == 0x40u * 8 + 2 + 1);  // IDT bit and EXT
  CHECK(cpu.rip() == 0x103000);
}
