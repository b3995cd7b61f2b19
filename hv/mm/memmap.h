/* The machine's physical memory layout as handed over by the boot path
 * (struct mem_region, boot/bootinfo.h): names and classes of its kinds. */
#ifndef HV_MM_MEMMAP_H
#define HV_MM_MEMMAP_H

#include <stdint.h>

#include "boot/bootinfo.h"
#include "hv/x86/page.h"

const char *mem_kind_name(enum mem_kind kind);

/* RAM the allocator may manage (now or after the switch-over). */
static inline int mem_kind_is_usable(enum mem_kind k)
{
	return k == MEM_FREE || k == MEM_BOOT_SERVICES || k == MEM_HV;
}

#endif
