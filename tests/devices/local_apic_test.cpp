#include <doctest/doctest.h>

#include "devices/local_apic.hpp"
#include "fake_platform.hpp"

using namespace hvsim;
using hvsim::test::FakePlatform;

namespace {
struct Apic {
  FakePlatform p;
  LocalApic apic{p};
  uint32_t rd(uint32_t reg) { return static_cast<uint32_t>(apic.mmio_read(reg, 4)); }
  void wr(uint32_t reg, uint32_t v) { apic.mmio_write(reg, 4, v); }
  void enable() { wr(apic_reg::SVR, apic_bits::SVR_ENABLE | 0xff); }
};
}  // namespace

TEST_CASE("LocalApic: identification and reset state") {
  Apic a;
  CHECK(a.rd(apic_reg::VERSION) == 0x00050014);
  CHECK(a.rd(apic_reg::SVR) == 0xff);  // software-disabled
  CHECK((a.rd(apic_reg::LVT_TIMER) & apic_bits::LVT_MASKED) != 0);
  a.apic.raise(0x40);  // disabled: not accepted
  CHECK(a.apic.deliverable(0) == -1);
}

TEST_CASE("LocalApic: IRR, ISR, EOI and priority between classes") {
  Apic a;
  a.enable();
  a.apic.raise(0x41);
  a.apic.raise(0x52);
  CHECK(a.apic.deliverable(0) == 0x52);
  a.apic.acknowledge(0x52);
  CHECK(a.rd(apic_reg::ISR + 0x20) == (1u << (0x52 - 64)));
  CHECK(a.rd(apic_reg::PPR) == 0x50);
  CHECK(a.apic.deliverable(0) == -1);  // 0x41 is below the in-service class
  a.apic.raise(0x61);
  CHECK(a.apic.deliverable(0) == 0x61);  // a higher class nests
  a.wr(apic_reg::EOI, 0);
  CHECK(a.rd(apic_reg::ISR + 0x20) == 0);
  CHECK(a.apic.deliverable(0) == 0x61);
  a.apic.acknowledge(0x61);
  a.wr(apic_reg::EOI, 0);
  CHECK(a.apic.deliverable(0) == 0x41);
}

TEST_CASE("LocalApic: TPR is CR8 seen through the APIC") {
  Apic a;
  a.enable();
  a.wr(apic_reg::TPR, 0x57);
  CHECK(a.p.cr8 == 5);
  CHECK(a.rd(apic_reg::TPR) == 0x57);
  a.apic.raise(0x52);
  CHECK(a.apic.deliverable(a.p.cr8) == -1);  // class 5 is not above TPR class 5
  a.p.cr8 = 2;                               // MOV CR8, 2: TPR[3:0] reads as 0
  CHECK(a.rd(apic_reg::TPR) == 0x20);
  CHECK(a.apic.deliverable(a.p.cr8) == 0x52);
}

TEST_CASE("LocalApic: one-shot and periodic timer on virtual time with the divider") {
  Apic a;
  a.enable();
  a.wr(apic_reg::TIMER_DIVIDE, 0x3);  // divide by 16
  a.wr(apic_reg::LVT_TIMER, 0x30);    // one-shot, vector 0x30
  a.wr(apic_reg::TIMER_INITIAL, 100); // 1600 ns
  a.p.advance_to(800);
  CHECK(a.rd(apic_reg::TIMER_CURRENT) == 50);
  a.p.advance_to(1599);
  CHECK(a.apic.deliverable(0) == -1);
  a.p.advance_to(1600);
  CHECK(a.apic.deliverable(0) == 0x30);
  CHECK(a.rd(apic_reg::TIMER_CURRENT) == 0);
  a.apic.acknowledge(0x30);
  a.wr(apic_reg::EOI, 0);

  a.wr(apic_reg::TIMER_DIVIDE, 0xb);  // divide by 1
  a.wr(apic_reg::LVT_TIMER, apic_bits::TIMER_PERIODIC | 0x31);
  a.wr(apic_reg::TIMER_INITIAL, 1000);  // every 1000 ns from 1600
  for (uint64_t t = 2600; t <= 5600; t += 1000) a.p.advance_to(t);
  CHECK(a.apic.timer_expiries() == 5);
  a.wr(apic_reg::LVT_TIMER, apic_bits::LVT_MASKED | apic_bits::TIMER_PERIODIC | 0x31);
  a.apic.acknowledge(0x31);
  a.wr(apic_reg::EOI, 0);
  a.p.advance_to(6600);
  CHECK(a.apic.timer_expiries() == 6);   // still counting
  CHECK(a.apic.deliverable(0) == -1);    // but masked
  a.wr(apic_reg::TIMER_INITIAL, 0);      // stops it
  a.p.advance_to(20000);
  CHECK(a.apic.timer_expiries() == 6);
}

TEST_CASE("LocalApic: malformed accesses are counted and harmless") {
  Apic a;
  CHECK(a.apic.mmio_read(0x81, 4) == 0);
  CHECK(a.apic.mmio_read(0x80, 2) == 0);
  a.apic.mmio_write(0x2000, 4, 1);
  a.apic.mmio_write(apic_reg::TPR, 1, 0xf0);
  CHECK(a.apic.malformed_accesses() == 4);
  CHECK(a.p.cr8 == 0);
}

TEST_CASE("LocalApic: would_deliver follows the processor priority and the software enable") {
  Apic a;
  CHECK(!a.apic.would_deliver(0x80, 0));  // software-disabled: raise() drops everything
  a.enable();
  CHECK(a.apic.would_deliver(0x80, 0));
  CHECK(!a.apic.would_deliver(0x80, 8));  // the TPR's class holds it back
  CHECK(a.apic.would_deliver(0x80, 7));
  CHECK(!a.apic.would_deliver(0x0f, 0));  // vectors 0-15 are illegal
  a.apic.raise(0x91);
  a.apic.acknowledge(0x91);
  CHECK(!a.apic.would_deliver(0x80, 0));  // below the class in service
  CHECK(a.apic.would_deliver(0xa0, 0));
}

TEST_CASE("LocalApic: its timer tells what an expiry would raise, nothing while the LVT entry is masked") {
  Apic a;
  a.enable();
  a.wr(apic_reg::LVT_TIMER, 0x50 | apic_bits::TIMER_PERIODIC);
  a.wr(apic_reg::TIMER_INITIAL, 100);
  CHECK(a.p.timers.any_may_raise([](int v) { return v == 0x50; }));
  a.wr(apic_reg::LVT_TIMER, 0x50 | apic_bits::TIMER_PERIODIC | apic_bits::LVT_MASKED);
  CHECK(!a.p.timers.any_may_raise([](int) { return true; }));
  a.p.advance_to(1000);  // expiries while masked re-arm, still raising nothing
  CHECK(!a.p.timers.empty());
  CHECK(!a.p.timers.any_may_raise([](int) { return true; }));
}
