/* The hvsim boot protocol (docs/boot-protocol.md): what the loader hands a 64-bit ELF kernel.
 * Shared, as C, by hvsim's loader and the guest kernel. Little-endian, naturally aligned. */
#ifndef HVSIM_BOOT_INFO_H
#define HVSIM_BOOT_INFO_H

#include <stdint.h>

#define HVSIM_BOOT_MAGIC 0x3149424d49535648ull /* "HVSIMBI1" in memory order */
#define HVSIM_BOOT_VERSION 1u
#define HVSIM_BOOT_INFO_ADDR 0x9000ull   /* guest-physical, identity-mapped at entry */
#define HVSIM_BOOT_CMDLINE_ADDR 0xa000ull
#define HVSIM_BOOT_CMDLINE_MAX 4095u     /* bytes, without the NUL */
#define HVSIM_KERNEL_MIN_PADDR 0x100000ull /* the first MiB holds the loader's structures */
#define HVSIM_KERNEL_VIRT_OFFSET 0xffffffff80000000ull /* higher-half alias of physical 0 */
#define HVSIM_BOOT_MAX_REGIONS 16u
#define HVSIM_BOOT_MAX_DEVICES 16u

enum hvsim_region_type {
  HVSIM_REGION_USABLE = 1,
  HVSIM_REGION_RESERVED = 2, /* loader structures, boot stack */
  HVSIM_REGION_KERNEL = 3,
  HVSIM_REGION_INITRD = 4,
};

enum hvsim_device_type {
  HVSIM_DEVICE_UART16550 = 1,  /* base = I/O port */
  HVSIM_DEVICE_DEBUG_EXIT = 2, /* base = I/O port; a write of v powers off with status v & 0xff */
  HVSIM_DEVICE_TEST_TIMER = 3, /* base = I/O port of the period register (docs/flat-guests.md) */
  HVSIM_DEVICE_LOCAL_APIC = 4, /* base = MMIO address */
};

struct hvsim_region {
  uint64_t base;
  uint64_t length;
  uint32_t type;
  uint32_t reserved;
};

struct hvsim_device {
  uint32_t type;
  uint32_t flags;
  uint64_t base;
  uint64_t size;
  uint32_t irq_vector; /* 0 when the device raises no interrupt */
  uint32_t reserved;
};

struct hvsim_boot_info {
  uint64_t magic;
  uint32_t version;
  uint32_t size;          /* sizeof(struct hvsim_boot_info) */
  uint64_t cmdline_addr;  /* physical, NUL-terminated */
  uint64_t cmdline_len;
  uint64_t initrd_addr;   /* physical, page-aligned; 0 when there is none */
  uint64_t initrd_size;
  uint64_t kernel_start;  /* physical range of the loaded segments */
  uint64_t kernel_end;
  uint64_t ram_size;
  uint32_t region_count;
  uint32_t device_count;
  struct hvsim_region regions[HVSIM_BOOT_MAX_REGIONS];
  struct hvsim_device devices[HVSIM_BOOT_MAX_DEVICES];
};

#endif
