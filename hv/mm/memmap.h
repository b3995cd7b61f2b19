/* The machine's physical memory layout as handed over by the boot path.
 * boot/ translates the UEFI memory map into these kinds so that hv/ never
 * sees firmware types. */
#ifndef HV_MM_MEMMAP_H
#define HV_MM_MEMMAP_H

#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ull
#define PAGE_MASK (PAGE_SIZE - 1)

enum mem_kind {
	MEM_FREE,          /* usable now */
	MEM_BOOT_SERVICES, /* usable once the hypervisor's own page tables,
			    * stack and descriptor tables are installed */
	MEM_HV,            /* the hypervisor image and what boot/ allocated */
	MEM_FW_RUNTIME,    /* UEFI runtime services code and data: keep mapped */
	MEM_ACPI,          /* ACPI tables and NVS */
	MEM_RESERVED,      /* reserved, unusable or persistent memory */
	MEM_MMIO,          /* memory-mapped I/O described by the firmware */
	MEM_KIND_COUNT
};

struct mem_region {
	uint64_t base;   /* page aligned */
	uint64_t pages;
	uint32_t kind;   /* enum mem_kind */
	uint32_t fw_type; /* the firmware's own type number, for display */
	uint64_t fw_attr;
};

const char *mem_kind_name(enum mem_kind kind);

/* RAM the allocator may manage (now or after the switch-over). */
static inline int mem_kind_is_usable(enum mem_kind k)
{
	return k == MEM_FREE || k == MEM_BOOT_SERVICES || k == MEM_HV;
}

#endif
