/* cpio newc reader: the rules of hvsim's app/initrd.cpp (unpack_initrd), in C. Only mode,
 * filesize and namesize are used; entries that are not regular files are skipped. */
#include "kernel.h"

#define HEADER_SIZE 110u
#define MAX_NAME 256u

static int hex8(const uint8_t* p, uint32_t* out) {
  uint32_t v = 0;
  for (int i = 0; i < 8; ++i) {
    uint8_t c = p[i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    v = v << 4 | d;
  }
  *out = v;
  return 1;
}

/* Zero bytes up to the next multiple of 4, all inside the archive. */
static int skip_padding(const uint8_t* a, uint64_t size, uint64_t* off) {
  while (*off % 4) {
    if (*off >= size || a[*off] != 0) return 0;
    ++*off;
  }
  return 1;
}

static int equals(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

int initrd_for_each(const uint8_t* a, uint64_t size, void (*visit)(const struct initrd_file*)) {
  static const char magic[6] = {'0', '7', '0', '7', '0', '1'};
  uint64_t off = 0;
  int files = 0;
  for (;;) {
    if (size - off < HEADER_SIZE) return -1;
    for (int i = 0; i < 6; ++i)
      if (a[off + i] != (uint8_t)magic[i]) return -1;
    uint32_t field[13];
    for (int i = 0; i < 13; ++i)
      if (!hex8(a + off + 6 + 8 * i, &field[i])) return -1;
    off += HEADER_SIZE;
    uint32_t mode = field[1], filesize = field[6], namesize = field[11];
    if (namesize < 2 || namesize > MAX_NAME || namesize > size - off) return -1;
    const char* name = (const char*)(a + off);
    if (name[namesize - 1] != 0) return -1;
    for (uint32_t i = 0; i + 1 < namesize; ++i)
      if (name[i] == 0) return -1;
    off += namesize;
    if (!skip_padding(a, size, &off)) return -1;
    if (equals(name, "TRAILER!!!")) {
      if (filesize != 0) return -1;
      for (; off < size; ++off)
        if (a[off] != 0) return -1;
      return files;
    }
    if (filesize > size - off) return -1;
    if ((mode & 0170000) == 0100000) {
      struct initrd_file f = {name, a + off, filesize};
      if (visit) visit(&f);
      ++files;
    }
    off += filesize;
    if (!skip_padding(a, size, &off)) return -1;
  }
}
