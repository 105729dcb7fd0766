#include <doctest/doctest.h>

#include <string>

#include "core/time/virtual_clock.hpp"
#include "devices/debug_exit.hpp"
#include "devices/interval_timer.hpp"
#include "devices/port_bus.hpp"
#include "devices/uart16550.hpp"

using namespace hvsim;

#include "fake_platform.hpp"

using hvsim::test::FakePlatform;

TEST_CASE("PortBus: devices see offsets in their window; overlaps are refused") {
  FakePlatform p;
  PortBus bus;
  Uart16550 uart(p);
  DebugExit exit_dev(p);
  REQUIRE(bus.attach(0x3f8, 8, uart));
  CHECK(!bus.attach(0x3fc, 2, exit_dev));
  REQUIRE(bus.attach(0xf4, 4, exit_dev));
  bus.port_write(0x3f8, 1, 'h');
  bus.port_write(0x3f8, 1, 'i');
  CHECK(p.console == "hi");
  CHECK(bus.port_read(0x3fd, 1) == 0x60);
  CHECK(bus.port_read(0x1234, 2) == 0xffff);
  CHECK(bus.unclaimed_accesses() == 1);
  bus.port_write(0xf4, 4, 0x1207);
  CHECK(p.exit_status == 7);
}

TEST_CASE("Uart16550: divisor latch bytes do not reach the console") {
  FakePlatform p;
  Uart16550 uart(p);
  uart.write(3, 1, 0x80);  // DLAB
  uart.write(0, 1, 0x01);
  uart.write(3, 1, 0x03);
  uart.write(0, 1, 'x');
  CHECK(p.console == "x");
  CHECK(uart.read(3, 1) == 0x03);
}

TEST_CASE("IntervalTimer: periodic expiries at exact virtual times") {
  FakePlatform p;
  IntervalTimer t(p);
  t.write(8, 1, 0x30);
  t.write(0, 4, 1000);
  for (uint64_t now : {999ull, 1000ull, 2500ull, 3000ull}) {
    p.now = now;
    p.timers.fire_due(now);
  }
  CHECK(p.irqs == std::vector<uint8_t>{0x30, 0x30, 0x30});
  // What the next expiry would raise, as a halted vCPU asks: the vector programmed now.
  CHECK(p.timers.any_may_raise([](int v) { return v == 0x30; }));
  t.write(8, 1, 0x41);
  CHECK(!p.timers.any_may_raise([](int v) { return v == 0x30; }));
  t.write(0, 4, 0);
  p.now = 10000;
  p.timers.fire_due(10000);
  CHECK(p.irqs.size() == 3);
}
