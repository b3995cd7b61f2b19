/* Copying between host files and datastore disks, thin both ways: zero
 * blocks are not written to the disk, nor to a sparse destination file. */
#ifndef TOOLS_HVDISK_COPY_H
#define TOOLS_HVDISK_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/store/store.h"

/* Copies the first 'bytes' of the raw file 'path' into disk 'name' from
 * byte 'offset' on, then flushes. 'thin' (a new disk that reads as zeros)
 * skips blocks of zeros, file holes included; otherwise every byte is
 * written. A last partial sector keeps the disk's bytes after the file's
 * end. Returns 0, or -1 after printing the error. @pre offset is a
 * multiple of STORE_SECTOR and the range lies inside the disk */
int copy_file_to_disk(struct store *s, const char *name, const char *path, uint64_t bytes,
		      uint64_t offset, bool thin);

/* Writes all of disk 'name' to fd: with 'sparse' (a regular file) by
 * position, leaving zero blocks as holes and setting the length at the
 * end; otherwise every byte in order. Returns 0, or -1 after printing. */
int copy_disk_to_file(struct store *s, const char *name, int fd, bool sparse, const char *dest);

#endif
