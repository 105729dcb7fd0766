/* hvsim's tiny libc for user programs: system calls (docs/guest-kernel.md) and a few helpers. */
#ifndef HVSIM_LIBC_H
#define HVSIM_LIBC_H

#include <stdint.h>

typedef int64_t ssize_t;
typedef uint64_t size_t;

ssize_t write(int fd, const void* buf, size_t len);
__attribute__((noreturn)) void exit(int status);
int64_t getpid(void);

size_t strlen(const char* s);
void puts_fd(int fd, const char* s); /* no newline added */
void put_dec(int fd, int64_t v);

#endif
