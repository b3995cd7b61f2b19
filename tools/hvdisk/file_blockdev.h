/* A struct blockdev over a host file: a regular image file or a block
 * device node (/dev/sdb, /dev/nvme0n1p3). Requests complete synchronously
 * inside submit (pread/pwrite), FLUSH is fdatasync, so blk_io() from
 * drivers/block works on it unchanged and the datastore code runs on the
 * host exactly as in the hypervisor. */
#ifndef TOOLS_HVDISK_FILE_BLOCKDEV_H
#define TOOLS_HVDISK_FILE_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/block/blockdev.h"

#define FILE_BLOCK_SIZE 512u

struct file_blockdev {
	struct blockdev dev;
	int fd;
	bool regular;    /* a regular file (not a device node) */
	uint64_t bytes;  /* the file's or device's size */
};

/* Opens 'path' (readable, and writable when asked) and takes an advisory
 * whole-file lock (shared for reads, exclusive for writes), so the tool
 * refuses an image a running QEMU holds. The size must be a multiple of
 * FILE_BLOCK_SIZE. Returns 0, or -1 with the reason in err. */
int file_blockdev_open(struct file_blockdev *fb, const char *path, bool writable, char *err,
		       size_t errlen);
void file_blockdev_close(struct file_blockdev *fb);

#endif
