/* memtouch: touches M fresh heap pages (default 256) with a stride S (default 17 pages): the
 * first write to each is a demand-zero page fault; a second pass reads them back. Measures
 * page faults and TLB fills on memory the kernel maps lazily. */
#include "libc.h"

int main(int argc, char** argv) {
  uint64_t pages = parse_u64(argc > 1 ? argv[1] : 0, 256);
  uint64_t stride = parse_u64(argc > 2 ? argv[2] : 0, 17);
  if (pages == 0 || pages > 65536 || stride == 0) {
    puts_fd(2, "memtouch: M must be between 1 and 65536 and S at least 1\n");
    return 2;
  }
  uint8_t* base = sbrk((int64_t)(pages * 4096));
  if (base == (void*)-1) {
    puts_fd(2, "memtouch: out of memory\n");
    return 1;
  }
  /* Every page once, in the order 0, S, 2S, ... then 1, S+1, ... */
  uint64_t touched = 0;
  for (uint64_t first = 0; first < stride && first < pages; ++first) {
    for (uint64_t p = first; p < pages; p += stride) {
      uint64_t* word = (uint64_t*)(base + p * 4096 + (p % 512) * 8);
      if (*word != 0) {
        puts_fd(2, "memtouch: a fresh page was not zero\n");
        return 1;
      }
      *word = p + 1;
      ++touched;
    }
  }
  for (uint64_t p = 0; p < pages; ++p) {
    if (*(uint64_t*)(base + p * 4096 + (p % 512) * 8) != p + 1) {
      puts_fd(2, "memtouch: a page lost its value\n");
      return 1;
    }
  }
  puts_fd(1, "memtouch: ");
  put_dec(1, (int64_t)touched);
  puts_fd(1, " pages\n");
  return 0;
}
