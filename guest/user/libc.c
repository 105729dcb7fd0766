#include "libc.h"

static inline int64_t syscall3(int64_t nr, int64_t a0, int64_t a1, int64_t a2) {
  int64_t ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
  return ret;
}

enum { SYS_WRITE = 0, SYS_EXIT = 1, SYS_GETPID = 2, SYS_TIME = 3, SYS_BENCH = 4 };

ssize_t write(int fd, const void* buf, size_t len) { return syscall3(SYS_WRITE, fd, (int64_t)buf, (int64_t)len); }

void exit(int status) {
  syscall3(SYS_EXIT, status, 0, 0);
  for (;;) {
  }
}

int64_t getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
int64_t time_ns(void) { return syscall3(SYS_TIME, 0, 0, 0); }
int64_t bench(int kind, uint64_t iterations) { return syscall3(SYS_BENCH, kind, (int64_t)iterations, 0); }

uint64_t parse_u64(const char* s, uint64_t fallback) {
  if (!s || !*s) return fallback;
  uint64_t v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return fallback;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  return v;
}

void report_iterations(const char* name, uint64_t n) {
  puts_fd(1, name);
  puts_fd(1, ": ");
  put_dec(1, (int64_t)n);
  puts_fd(1, " iterations\n");
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

void puts_fd(int fd, const char* s) { write(fd, s, strlen(s)); }

void put_dec(int fd, int64_t v) {
  char buf[21];
  int i = 20;
  int neg = v < 0;
  uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) buf[--i] = '-';
  puts_fd(fd, buf + i);
}
