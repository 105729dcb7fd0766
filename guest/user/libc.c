#include "libc.h"

static inline int64_t syscall3(int64_t nr, int64_t a0, int64_t a1, int64_t a2) {
  int64_t ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
  return ret;
}

enum {
  SYS_WRITE = 0,
  SYS_EXIT = 1,
  SYS_GETPID = 2,
  SYS_TIME = 3,
  SYS_BENCH = 4,
  SYS_FORK = 5,
  SYS_WAIT = 6,
  SYS_YIELD = 7,
  SYS_SBRK = 8,
  SYS_EXEC = 9,
};

ssize_t write(int fd, const void* buf, size_t len) { return syscall3(SYS_WRITE, fd, (int64_t)buf, (int64_t)len); }

void exit(int status) {
  syscall3(SYS_EXIT, status, 0, 0);
  for (;;) {
  }
}

int64_t getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
int64_t time_ns(void) { return syscall3(SYS_TIME, 0, 0, 0); }
int64_t bench(int kind, uint64_t iterations) { return syscall3(SYS_BENCH, kind, (int64_t)iterations, 0); }
int64_t fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
int64_t wait(int32_t* status) { return syscall3(SYS_WAIT, (int64_t)status, 0, 0); }
void yield(void) { syscall3(SYS_YIELD, 0, 0, 0); }
int64_t exec(char* const argv[]) { return syscall3(SYS_EXEC, (int64_t)argv, 0, 0); }

void* sbrk(int64_t increment) {
  int64_t r = syscall3(SYS_SBRK, increment, 0, 0);
  return r < 0 ? (void*)-1 : (void*)r;
}

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

int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return (unsigned char)*a - (unsigned char)*b;
}

void* memset(void* dst, int c, size_t n) {
  unsigned char* d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void put_hex(int fd, uint64_t v) {
  char buf[19];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 16; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
  buf[18] = 0;
  puts_fd(fd, buf);
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
