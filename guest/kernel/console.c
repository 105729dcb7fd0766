/* Console on the 16550 UART, and power-off through the debug-exit port. */
#include "kernel.h"

static uint16_t uart = 0x3f8;
uint16_t debug_exit_port = 0xf4;

void console_init(uint16_t uart_port) { uart = uart_port; }

void kputc(char c) {
  while (!(inb(uart + 5) & 0x20)) {
  }
  outb(uart, (uint8_t)c);
}

void kputs(const char* s) {
  while (*s) kputc(*s++);
}

void kputdec(uint64_t v) {
  char buf[21];
  int i = 20;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  kputs(buf + i);
}

void kputhex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  kputs("0x");
  for (int shift = 60; shift >= 0; shift -= 4) kputc(digits[(v >> shift) & 0xf]);
}

void power_off(uint8_t status) {
  outb(debug_exit_port, status);
  for (;;) __asm__ volatile("cli; hlt");
}
