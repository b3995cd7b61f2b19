/* The `ramdisk=SIZE` setting: a RAM disk "ram0" over pages from the
 * allocator, for machines without a disk the hypervisor drives (Bochs). */
#include "drivers/block/blk_drivers.h"
#include "drivers/block/ramdisk.h"
#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/lib/parse.h"
#include "hv/mm/mm.h"

CONFIG_KEY(key_ramdisk, "ramdisk", "0", "size of a RAM disk ram0 (e.g. 64M); 0: none");

#define RAMDISK_MAX_BYTES (64ull << 30)

unsigned ramdisk_boot_create(void)
{
	static struct ramdisk rd;
	uint64_t bytes;
	const char *v = setting("ramdisk");

	if (!parse_size(v, &bytes) || bytes % PAGE_SIZE || bytes > RAMDISK_MAX_BYTES) {
		log_warn("blk: ramdisk '%.32s' is not a size in whole 4 KiB pages (e.g. 64M)", v);
		return 0;
	}
	if (!bytes)
		return 0;
	uint64_t pa = pages_alloc(bytes / PAGE_SIZE, 1);
	if (!pa) {
		log_warn("blk: ramdisk: no %lu MiB of contiguous memory",
			 (unsigned long)(bytes >> 20));
		return 0;
	}
	if (!ramdisk_init(&rd, "ram0", phys_to_virt(pa), bytes) || blk_register(&rd.dev) < 0) {
		pages_free(pa, bytes / PAGE_SIZE);
		log_warn("blk: ramdisk: cannot register ram0");
		return 0;
	}
	return 1;
}
