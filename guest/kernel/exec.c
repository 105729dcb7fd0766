/* Programs: the initrd's files by name, the static ELF64 loader, argv on the new stack, and
 * the exec system call that replaces a process's address space with a program. */
#include "kernel.h"

#define MAX_PROGRAMS 64
#define ENOENT 2
#define EFAULT 14
#define EINVAL 22
#define ENOEXEC 8
#define E2BIG 7

static struct initrd_file programs[MAX_PROGRAMS];
static int program_count;

void initrd_register(const struct initrd_file* f) {
  if (program_count < MAX_PROGRAMS) programs[program_count++] = *f;
}

static int same(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

const struct initrd_file* initrd_find(const char* name) {
  for (int i = 0; i < program_count; ++i) {
    if (same(programs[i].name, name)) return &programs[i];
  }
  return 0;
}

struct elf_phdr {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static uint16_t read16(const uint8_t* p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t read64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

/* Segments go to pages mapped now; the stack's top page too (argv is written there), the rest
 * of the stack and the heap (from the end of the highest segment) are demand-zero. */
static int load_segments(const uint8_t* elf, uint64_t size, uint64_t pml4, uint64_t phoff, uint16_t phnum,
                         uint64_t* end_out) {
  uint64_t end = 0;
  for (uint16_t i = 0; i < phnum; ++i) {
    struct elf_phdr ph;
    const uint8_t* raw = elf + phoff + (uint64_t)i * sizeof ph;
    for (uint64_t b = 0; b < sizeof ph; ++b) ((uint8_t*)&ph)[b] = raw[b];
    if (ph.type != 1 || ph.memsz == 0) continue;
    if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset) return 0;
    if (ph.vaddr < 0x1000 || ph.vaddr >= USER_STACK_TOP - USER_STACK_MAX ||
        ph.memsz > USER_STACK_TOP - USER_STACK_MAX - ph.vaddr)
      return 0;
    uint64_t flags = (ph.flags & 2) ? PTE_W : 0;
    if (!(ph.flags & 1)) flags |= PTE_NX;
    for (uint64_t va = ph.vaddr & ~0xfffull; va < ph.vaddr + ph.memsz; va += 0x1000) {
      uint64_t frame = uspace_map(pml4, va, flags);
      if (!frame) return 0;
      uint8_t* dst = phys_ptr(frame);
      for (uint64_t b = 0; b < 0x1000; ++b) {
        uint64_t addr = va + b;
        if (addr >= ph.vaddr && addr - ph.vaddr < ph.filesz) dst[b] = elf[ph.offset + (addr - ph.vaddr)];
      }
    }
    if (ph.vaddr + ph.memsz > end) end = ph.vaddr + ph.memsz;
  }
  *end_out = (end + 0xfff) & ~0xfffull;
  return end != 0;
}

int load_program(const uint8_t* elf, uint64_t size, uint64_t* pml4_out, uint64_t* entry_out, uint64_t* end_out) {
  if (size < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2) return 0;
  uint16_t machine = read16(elf + 18), phentsize = read16(elf + 54), phnum = read16(elf + 56);
  uint64_t entry = read64(elf + 24), phoff = read64(elf + 32);
  if (machine != 62 || phentsize != sizeof(struct elf_phdr) || phnum == 0 || phnum > 32) return 0;
  if (phoff > size || (uint64_t)phnum * phentsize > size - phoff) return 0;
  if (entry >= USER_TOP) return 0;
  uint64_t pml4 = uspace_new();
  if (!pml4) return 0;
  if (!load_segments(elf, size, pml4, phoff, phnum, end_out) ||
      !uspace_map(pml4, USER_STACK_TOP - 0x1000, PTE_W | PTE_NX)) {
    uspace_free(pml4);
    return 0;
  }
  *pml4_out = pml4;
  *entry_out = entry;
  return 1;
}

uint64_t push_args(uint64_t argc, const char* const* args, uint64_t* argv_out) {
  uint64_t argv[MAX_ARGS + 1];
  char* strings = (char*)(USER_STACK_TOP - ARG_BYTES);
  uint64_t used = 0;
  if (argc > MAX_ARGS) argc = MAX_ARGS;
  for (uint64_t i = 0; i < argc; ++i) {
    argv[i] = (uint64_t)(strings + used);
    for (const char* c = args[i]; *c && used + 1 < ARG_BYTES; ++c) strings[used++] = *c;
    strings[used++] = 0;
  }
  argv[argc] = 0;
  uint64_t sp = (USER_STACK_TOP - ARG_BYTES - 8 * (argc + 1)) & ~0xfull;
  for (uint64_t i = 0; i <= argc; ++i) ((uint64_t*)sp)[i] = argv[i];
  *argv_out = sp;
  return sp - 8; /* as after a call: main sees a normally aligned stack */
}

/* Copies the user's NULL-terminated argv into `buffer`, every pointer and byte checked. */
static int64_t copy_argv(uint64_t argv_user, const char** args, char* buffer) {
  uint64_t used = 0;
  for (int argc = 0;; ++argc) {
    uint64_t slot = argv_user + 8ull * (uint64_t)argc;
    if (slot < argv_user || !user_range_ok(slot, 8, 0)) return -EFAULT;
    uint64_t s = *(const uint64_t*)slot;
    if (!s) return argc;
    if (argc == MAX_ARGS) return -E2BIG;
    args[argc] = buffer + used;
    for (uint64_t k = 0;; ++k) {
      if (used == ARG_BYTES) return -E2BIG;
      if ((k == 0 || ((s + k) & 0xfff) == 0) && !user_range_ok(s + k, 1, 0)) return -EFAULT;
      char c = *(const char*)(s + k);
      buffer[used++] = c;
      if (!c) break;
    }
  }
}

int64_t process_exec(struct syscall_frame* f, uint64_t argv_user) {
  const char* args[MAX_ARGS];
  char buffer[ARG_BYTES];
  int64_t argc = copy_argv(argv_user, args, buffer);
  if (argc < 0) return argc;
  if (argc == 0) return -EINVAL;
  const struct initrd_file* program = initrd_find(args[0]);
  if (!program) return -ENOENT;

  uint64_t irql = irql_raise();
  uint64_t pml4, entry, end;
  if (!load_program(program->data, program->size, &pml4, &entry, &end)) {
    irql_restore(irql);
    return -ENOEXEC;
  }
  uint64_t old = current->cr3;
  current->cr3 = pml4;
  load_cr3(pml4);
  uspace_free(old);
  current->heap_start = current->brk = end;
  copy_name(current->name, program->name, sizeof current->name);
  irql_restore(irql);

  uint64_t argv;
  uint64_t sp = push_args((uint64_t)argc, args, &argv);
  struct syscall_frame fresh = {0};
  fresh.rip = entry;
  fresh.rsp = sp;
  fresh.rflags = 0x202;
  fresh.a0 = (uint64_t)argc;
  fresh.a1 = argv;
  *f = fresh;
  return 0;
}
