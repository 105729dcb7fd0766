/* hvsim's tiny libc for user programs: system calls (docs/guest-kernel.md) and a few helpers. */
#ifndef HVSIM_LIBC_H
#define HVSIM_LIBC_H

#include <stdint.h>

typedef int64_t ssize_t;
typedef uint64_t size_t;

ssize_t write(int fd, const void* buf, size_t len);
__attribute__((noreturn)) void exit(int status);
int64_t getpid(void);
int64_t time_ns(void);                             /* virtual nanoseconds since boot */
int64_t bench(int kind, uint64_t iterations);     /* kernel-mode nanobenchmark */
enum { BENCH_IN = 0, BENCH_CR8WRITE = 1, BENCH_CALLRET = 2, BENCH_PTEMOD = 3, BENCH_PGFAULT = 4, BENCH_DIVZERO = 5 };
int64_t fork(void);                 /* child pid in the parent, 0 in the child */
int64_t wait(int32_t* status);      /* a child's pid once it has exited; -ECHILD without children */
void yield(void);
void* sbrk(int64_t increment);      /* the old break; (void*)-1 on failure */
int64_t exec(char* const argv[]);   /* argv[0] names a program of the initrd; returns only on failure */
enum { EFAULT = 14, ECHILD = 10, ENOENT = 2, EAGAIN = 11 };
uint64_t parse_u64(const char* s, uint64_t fallback); /* decimal; fallback when absent or bad */
/* "<name>: <n> iterations\n" on stdout: the nanobenchmarks' one line. */
void report_iterations(const char* name, uint64_t n);

size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
void* memset(void* dst, int c, size_t n);
void* memcpy(void* dst, const void* src, size_t n);
void puts_fd(int fd, const char* s); /* no newline added */
void put_dec(int fd, int64_t v);
void put_hex(int fd, uint64_t v);

#endif
