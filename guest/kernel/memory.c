/* Physical memory and the kernel's address space.
 * - Frames: a free list of 4 KiB frames built from the boot memory map's usable regions; a
 *   free frame holds the address of the next one (reached through the direct map). Each frame
 *   has a reference count (copy-on-write shares frames between address spaces) in an array
 *   carved from the first usable region large enough.
 * - Address space: the kernel's own PML4 with a direct map of the first 4 GiB of physical
 *   memory at PHYS_MAP_BASE (2 MiB pages, no-execute) and the kernel image at -2 GiB (2 MiB
 *   pages). The lower half is left empty for user processes. */
#include "kernel.h"

static uint64_t free_list; /* physical address of the first free frame, 0 when none */
static uint64_t free_frames;
uint64_t kernel_cr3;
static uint64_t refs_pa;      /* uint16_t per frame, indexed by frame number */
static uint64_t refs_frames;  /* frames the array covers */

#define MAX_PHYS (1ull << 30) /* before paging is ours, frames are reached through the -2 GiB alias */

static uint16_t* ref_slot(uint64_t pa) {
  uint64_t n = pa >> 12;
  if (n >= refs_frames) {
    kputs("kernel: frame ");
    kputhex(pa);
    kputs(" outside the reference table\n");
    power_off(3);
  }
  return (uint16_t*)phys_ptr(refs_pa) + n;
}

static int direct_map_ready;

void* phys_ptr(uint64_t pa) {
  return (void*)(pa + (direct_map_ready ? PHYS_MAP_BASE : HVSIM_KERNEL_VIRT_OFFSET));
}

uint64_t frame_alloc(void) {
  uint64_t pa = free_list;
  if (!pa) return 0;
  free_list = *(uint64_t*)phys_ptr(pa);
  --free_frames;
  uint64_t* p = phys_ptr(pa);
  for (int i = 0; i < 512; ++i) p[i] = 0;
  *ref_slot(pa) = 1;
  return pa;
}

void frame_free(uint64_t pa) {
  *ref_slot(pa) = 0;
  *(uint64_t*)phys_ptr(pa) = free_list;
  free_list = pa;
  ++free_frames;
}

void frame_ref(uint64_t pa) {
  uint16_t* r = ref_slot(pa);
  if (*r == 0xffff) {
    kputs("kernel: frame reference count overflow\n");
    power_off(3);
  }
  ++*r;
}

void frame_unref(uint64_t pa) {
  uint16_t* r = ref_slot(pa);
  if (*r == 0) {
    kputs("kernel: frame ");
    kputhex(pa);
    kputs(" freed twice\n");
    power_off(3);
  }
  if (--*r == 0) frame_free(pa);
}

uint32_t frame_refs(uint64_t pa) { return *ref_slot(pa); }

uint64_t frames_free(void) { return free_frames; }

struct range {
  uint64_t start, end;
};

static int overlaps(uint64_t start, uint64_t end, struct range r) { return start < r.end && r.start < end; }

static void add_region(uint64_t base, uint64_t end, const struct range* avoid, int avoid_count) {
  base = (base + 0xfff) & ~0xfffull;
  end &= ~0xfffull;
  if (end > MAX_PHYS) end = MAX_PHYS;
  for (uint64_t pa = base; pa + 0x1000 <= end; pa += 0x1000) {
    int skip = 0;
    for (int i = 0; i < avoid_count; ++i) skip |= overlaps(pa, pa + 0x1000, avoid[i]);
    if (!skip) frame_free(pa);
  }
}

void memory_init(const struct hvsim_boot_info* bi) {
  struct range avoid[2] = {{bi->initrd_addr, bi->initrd_addr + bi->initrd_size}, {0, 0}};
  /* The reference table covers every usable frame; it takes the first region with room. */
  uint64_t top = 0;
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS; ++i) {
    const struct hvsim_region* r = &bi->regions[i];
    if (r->type == HVSIM_REGION_USABLE && r->base + r->length > top) top = r->base + r->length;
  }
  if (top > MAX_PHYS) top = MAX_PHYS;
  uint64_t table_bytes = ((top >> 12) * sizeof(uint16_t) + 0xfff) & ~0xfffull;
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS && !refs_frames; ++i) {
    const struct hvsim_region* r = &bi->regions[i];
    uint64_t base = (r->base + 0xfff) & ~0xfffull;
    if (r->type != HVSIM_REGION_USABLE || base + table_bytes > r->base + r->length || base + table_bytes > MAX_PHYS ||
        overlaps(base, base + table_bytes, avoid[0]))
      continue;
    refs_pa = base;
    refs_frames = top >> 12;
    avoid[1] = (struct range){base, base + table_bytes};
    uint64_t* t = phys_ptr(base);
    for (uint64_t k = 0; k < table_bytes / 8; ++k) t[k] = 0;
  }
  if (!refs_frames) {
    kputs("kernel: no room for the frame reference table\n");
    power_off(3);
  }
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS; ++i) {
    const struct hvsim_region* r = &bi->regions[i];
    if (r->type == HVSIM_REGION_USABLE) add_region(r->base, r->base + r->length, avoid, 2);
  }

  uint64_t pml4_pa = frame_alloc();
  uint64_t* pml4 = phys_ptr(pml4_pa);
  /* Direct map: PML4[256] -> PDPT with 4 PDs of 2 MiB pages covering 4 GiB. */
  uint64_t pdpt_pa = frame_alloc();
  uint64_t* pdpt = phys_ptr(pdpt_pa);
  pml4[PML4_INDEX(PHYS_MAP_BASE)] = pdpt_pa | PTE_P | PTE_W;
  for (uint64_t g = 0; g < 4; ++g) {
    uint64_t pd_pa = frame_alloc();
    uint64_t* pd = phys_ptr(pd_pa);
    for (uint64_t j = 0; j < 512; ++j) pd[j] = ((g << 30) + (j << 21)) | PTE_P | PTE_W | PTE_PS | PTE_NX;
    pdpt[g] = pd_pa | PTE_P | PTE_W;
  }
  /* Kernel image: PML4[511] -> PDPT[510] -> PD of 2 MiB pages over the first 1 GiB. */
  uint64_t kpdpt_pa = frame_alloc();
  uint64_t kpd_pa = frame_alloc();
  uint64_t* kpdpt = phys_ptr(kpdpt_pa);
  uint64_t* kpd = phys_ptr(kpd_pa);
  for (uint64_t j = 0; j < 512; ++j) kpd[j] = (j << 21) | PTE_P | PTE_W | PTE_PS;
  kpdpt[510] = kpd_pa | PTE_P | PTE_W;
  pml4[511] = kpdpt_pa | PTE_P | PTE_W;

  kernel_cr3 = pml4_pa;
  __asm__ volatile("mov %0, %%cr3" : : "r"(pml4_pa) : "memory");
  direct_map_ready = 1;
}
