/* Which blocks of a VM's disks the guest wrote: one bit per datastore
 * block, set when a write request completes. Migration copies a disk while
 * the guest runs and sends again what this log says changed meanwhile, as
 * the page dirty log does for memory. */
#include "hv/lib/bitmap.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"

static uint64_t blocks_of(const struct vm_disk *d)
{
	uint32_t bs = store_disk_block_size(d->disk);

	return (store_disk_size(d->disk) + bs - 1) / bs;
}

int vm_disk_log_start(struct vm_disk *d)
{
	if (d->dirty)
		return 0;
	d->dirty_blocks = blocks_of(d);
	d->dirty = kzalloc((d->dirty_blocks + 63) / 64 * 8);
	return d->dirty ? 0 : -1;
}

void vm_disk_log_stop(struct vm_disk *d)
{
	kfree(d->dirty);
	d->dirty = NULL;
	d->dirty_blocks = 0;
}

void vm_disk_log_write(struct vm_disk *d, uint64_t offset, uint64_t len)
{
	if (!d->dirty || !len)
		return;
	uint32_t bs = store_disk_block_size(d->disk);
	uint64_t first = offset / bs, last = (offset + len - 1) / bs;

	if (last >= d->dirty_blocks)
		last = d->dirty_blocks - 1;
	if (first <= last)
		bitmap_set_range(d->dirty, first, last - first + 1);
}

uint64_t vm_disk_log_harvest(struct vm_disk *d, uint64_t *into)
{
	size_t words = (d->dirty_blocks + 63) / 64;

	if (!d->dirty)
		return 0;
	uint64_t n = bitmap_count(d->dirty, d->dirty_blocks);
	for (size_t i = 0; i < words; i++) {
		into[i] |= d->dirty[i];
		d->dirty[i] = 0;
	}
	return n;
}
