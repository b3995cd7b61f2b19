/* A block device over host memory ("ram0"): requests complete inside
 * submit, by copying. For machines without a disk the hypervisor drives
 * (Bochs) and for tests. Nothing is durable, so there is no volatile cache
 * to flush. */
#ifndef DRIVERS_BLOCK_RAMDISK_H
#define DRIVERS_BLOCK_RAMDISK_H

#include <stdint.h>

#include "drivers/block/blockdev.h"

#define RAMDISK_BLOCK_SIZE 512
#define RAMDISK_MAX_TRANSFER (1024u * 1024)
#define RAMDISK_QUEUE_DEPTH 32

struct ramdisk {
	struct blockdev dev;
	uint8_t *mem;
};

/* Sets up rd->dev over 'bytes' of 'mem' (rounded down to whole blocks);
 * returns false if that is no block at all. Does not register it.
 * @pre mem stays valid as long as the device; name fits dev.name */
bool ramdisk_init(struct ramdisk *rd, const char *name, void *mem, uint64_t bytes);

#endif
