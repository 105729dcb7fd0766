/* compute: integer work with no privileged operation: N pseudo-random 64-bit numbers (default
 * 20000) on the heap, heap-sorted, checked, and summed into a checksum that depends on every
 * element and its position. Its cost is the same under every technique but binary
 * translation of kernel code, which it never enters. */
#include "libc.h"

static void sift_down(uint64_t* a, uint64_t start, uint64_t end) {
  uint64_t root = start;
  while (2 * root + 1 < end) {
    uint64_t child = 2 * root + 1;
    if (child + 1 < end && a[child] < a[child + 1]) ++child;
    if (a[root] >= a[child]) return;
    uint64_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

static void heap_sort(uint64_t* a, uint64_t n) {
  for (uint64_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (uint64_t end = n; end > 1; --end) {
    uint64_t t = a[0];
    a[0] = a[end - 1];
    a[end - 1] = t;
    sift_down(a, 0, end - 1);
  }
}

int main(int argc, char** argv) {
  uint64_t n = parse_u64(argc > 1 ? argv[1] : 0, 20000);
  if (n == 0 || n > (64ull << 20) / sizeof(uint64_t)) {
    puts_fd(2, "compute: N must be between 1 and 8388608\n");
    return 2;
  }
  uint64_t* a = sbrk((int64_t)(n * sizeof(uint64_t)));
  if (a == (void*)-1) {
    puts_fd(2, "compute: out of memory\n");
    return 1;
  }
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    a[i] = x >> 11;
  }
  heap_sort(a, n);
  uint64_t checksum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (i && a[i - 1] > a[i]) {
      puts_fd(2, "compute: not sorted\n");
      return 1;
    }
    checksum = (checksum ^ a[i]) * 0x100000001b3ull + i;
  }
  puts_fd(1, "compute: ");
  put_dec(1, (int64_t)n);
  puts_fd(1, " numbers sorted, checksum ");
  put_hex(1, checksum);
  puts_fd(1, "\n");
  return 0;
}
