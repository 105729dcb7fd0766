/* Physical memory and the kernel's address space.
 * - Frames: a free list of 4 KiB frames built from the boot memory map's usable regions; a
 *   free frame holds the address of the next one (reached through the direct map).
 * - Address space: the kernel's own PML4 with a direct map of the first 4 GiB of physical
 *   memory at PHYS_MAP_BASE (2 MiB pages, no-execute) and the kernel image at -2 GiB (2 MiB
 *   pages). The lower half is left empty for user processes. */
#include "kernel.h"

static uint64_t free_list; /* physical address of the first free frame, 0 when none */
static uint64_t free_frames;
static uint64_t* kernel_pml4; /* direct-map pointer */
uint64_t kernel_cr3;

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
  return pa;
}

void frame_free(uint64_t pa) {
  *(uint64_t*)phys_ptr(pa) = free_list;
  free_list = pa;
  ++free_frames;
}

uint64_t frames_free(void) { return free_frames; }

static void add_region(uint64_t base, uint64_t end, uint64_t avoid_start, uint64_t avoid_end) {
  base = (base + 0xfff) & ~0xfffull;
  end &= ~0xfffull;
  /* Before paging is ours, frames are reached through the loader's -2 GiB alias: below 1 GiB. */
  if (end > (1ull << 30)) end = 1ull << 30;
  for (uint64_t pa = base; pa + 0x1000 <= end; pa += 0x1000) {
    if (pa >= avoid_start && pa < avoid_end) continue;
    frame_free(pa);
  }
}

void memory_init(const struct hvsim_boot_info* bi) {
  uint64_t avoid_start = bi->initrd_addr, avoid_end = bi->initrd_addr + bi->initrd_size;
  for (uint32_t i = 0; i < bi->region_count && i < HVSIM_BOOT_MAX_REGIONS; ++i) {
    const struct hvsim_region* r = &bi->regions[i];
    if (r->type == HVSIM_REGION_USABLE) add_region(r->base, r->base + r->length, avoid_start, avoid_end);
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
  kernel_pml4 = phys_ptr(pml4_pa);
  (void)kernel_pml4;
}
