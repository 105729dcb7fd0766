/* User address spaces: the lower half of each process's PML4 (the upper half is the kernel's,
 * shared). Pages are mapped eagerly by the program loader, on demand (zero-filled) for the
 * heap and the stack, and shared copy-on-write by fork: a writable page becomes read-only with
 * PTE_COW in both processes and the first write fault copies it (or, for the last sharer,
 * simply makes it writable again). These are the true page faults and page-table writes of a
 * real kernel, which shadow paging and EPT must then virtualize. */
#include "kernel.h"

#define PF_PRESENT 0x1ull
#define PF_WRITE 0x2ull
#define PF_USER 0x4ull
#define PF_FETCH 0x10ull
#define USER_ENTRIES 256 /* PML4 entries of the lower half */

uint64_t* pte_lookup(uint64_t pml4_pa, uint64_t va, int create) {
  uint64_t table = pml4_pa;
  for (int level = 3; level >= 1; --level) {
    uint64_t* e = &((uint64_t*)phys_ptr(table))[(va >> (12 + 9 * level)) & 0x1ff];
    if (!(*e & PTE_P)) {
      if (!create) return 0;
      uint64_t pa = frame_alloc();
      if (!pa) return 0;
      *e = pa | PTE_P | PTE_W | PTE_U;
    }
    table = *e & PTE_ADDR;
  }
  return &((uint64_t*)phys_ptr(table))[(va >> 12) & 0x1ff];
}

uint64_t uspace_new(void) {
  uint64_t pml4 = frame_alloc();
  if (!pml4) return 0;
  const uint64_t* kernel = phys_ptr(kernel_cr3);
  uint64_t* mine = phys_ptr(pml4);
  for (int i = USER_ENTRIES; i < 512; ++i) mine[i] = kernel[i];
  return pml4;
}

uint64_t uspace_map(uint64_t pml4_pa, uint64_t va, uint64_t flags) {
  uint64_t* pte = pte_lookup(pml4_pa, va, 1);
  if (!pte) return 0;
  if (!(*pte & PTE_P)) {
    uint64_t pa = frame_alloc();
    if (!pa) return 0;
    *pte = pa | PTE_P | PTE_U | flags;
  }
  return *pte & PTE_ADDR;
}

/* Releases the tables and pages below `table` (a table at `level`, 3 = PML4). */
static void free_level(uint64_t table, int level, int entries) {
  uint64_t* e = phys_ptr(table);
  for (int i = 0; i < entries; ++i) {
    if (!(e[i] & PTE_P)) continue;
    if (level > 0) free_level(e[i] & PTE_ADDR, level - 1, 512);
    else frame_unref(e[i] & PTE_ADDR);
    e[i] = 0;
  }
  frame_unref(table);
}

void uspace_free(uint64_t pml4_pa) { free_level(pml4_pa, 3, USER_ENTRIES); }

/* Copies `src` (a table at `level`) into the empty `dst`; leaf pages are shared, writable ones
 * turned copy-on-write on both sides. Returns 0 when memory runs out (dst then holds what was
 * copied so far and is freed by the caller). */
static int clone_level(uint64_t src, uint64_t dst, int level, int entries) {
  uint64_t* s = phys_ptr(src);
  uint64_t* d = phys_ptr(dst);
  for (int i = 0; i < entries; ++i) {
    if (!(s[i] & PTE_P)) continue;
    if (level == 0) {
      if (s[i] & PTE_W) s[i] = (s[i] & ~PTE_W) | PTE_COW;
      frame_ref(s[i] & PTE_ADDR);
      d[i] = s[i];
      continue;
    }
    uint64_t table = frame_alloc();
    if (!table) return 0;
    d[i] = table | (s[i] & ~PTE_ADDR);
    if (!clone_level(s[i] & PTE_ADDR, table, level - 1, 512)) return 0;
  }
  return 1;
}

uint64_t uspace_clone_cow(uint64_t parent_pml4_pa) {
  uint64_t child = uspace_new();
  if (!child) return 0;
  if (!clone_level(parent_pml4_pa, child, 3, USER_ENTRIES)) {
    uspace_free(child);
    return 0;
  }
  return child;
}

void uspace_unmap_range(uint64_t pml4_pa, uint64_t start, uint64_t end) {
  for (uint64_t va = start & ~0xfffull; va < end; va += 0x1000) {
    uint64_t* pte = pte_lookup(pml4_pa, va, 0);
    if (!pte || !(*pte & PTE_P)) continue;
    frame_unref(*pte & PTE_ADDR);
    *pte = 0;
    invlpg(va);
  }
}

static int in_demand_zero_area(const struct process* p, uint64_t page) {
  if (page >= p->heap_start && page < p->brk) return 1;
  return page >= USER_STACK_TOP - USER_STACK_MAX && page < USER_STACK_TOP;
}

static int break_cow(uint64_t* pte, uint64_t page) {
  uint64_t old = *pte & PTE_ADDR;
  if (frame_refs(old) == 1) {
    *pte = (*pte & ~PTE_COW) | PTE_W; /* the last sharer keeps the frame */
  } else {
    uint64_t copy = frame_alloc();
    if (!copy) return -1;
    const uint64_t* from = phys_ptr(old);
    uint64_t* to = phys_ptr(copy);
    for (int i = 0; i < 512; ++i) to[i] = from[i];
    *pte = copy | (*pte & ~(PTE_ADDR | PTE_COW)) | PTE_W;
    frame_unref(old);
  }
  invlpg(page);
  return 1;
}

static int map_demand_zero(struct process* p, uint64_t page) {
  if (!in_demand_zero_area(p, page)) return 0;
  uint64_t* pte = pte_lookup(p->cr3, page, 1);
  if (!pte) return -1;
  uint64_t frame = frame_alloc();
  if (!frame) return -1;
  *pte = frame | PTE_P | PTE_W | PTE_U | PTE_NX;
  return 1;
}

int uspace_page_fault(struct process* p, uint64_t va, uint64_t error_code) {
  if (!p || va >= USER_TOP) return 0;
  uint64_t page = va & ~0xfffull;
  if (!(error_code & PF_PRESENT)) return map_demand_zero(p, page);
  if (!(error_code & PF_WRITE) || (error_code & PF_FETCH)) return 0;
  uint64_t* pte = pte_lookup(p->cr3, page, 0);
  if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || !(*pte & PTE_COW)) return 0;
  return break_cow(pte, page);
}

int user_range_ok(uint64_t va, uint64_t len, int write) {
  if (len == 0) return 1;
  if (!current || va >= USER_TOP || len > USER_TOP - va) return 0;
  for (uint64_t page = va & ~0xfffull; page < va + len; page += 0x1000) {
    uint64_t* pte = pte_lookup(current->cr3, page, 0);
    if (!pte || !(*pte & PTE_P)) {
      if (map_demand_zero(current, page) != 1) return 0;
      continue;
    }
    if (!(*pte & PTE_U)) return 0;
    if (write && !(*pte & PTE_W)) {
      if (!(*pte & PTE_COW) || break_cow(pte, page) != 1) return 0;
    }
  }
  return 1;
}
