/* Small helpers for the host files hvdisk copies from and to. */
#ifndef TOOLS_HVDISK_HOSTIO_H
#define TOOLS_HVDISK_HOSTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads until 'len' bytes or the end of the file; returns the bytes read,
 * or -1 (errno set). */
ssize_t hostio_read_full(int fd, void *buf, size_t len, uint64_t offset);
/* Writes all of buf at 'offset', or at the current position when the file
 * cannot seek (offset ignored); returns 0 or -1 (errno set). */
int hostio_write_full(int fd, const void *buf, size_t len, uint64_t offset, bool seekable);
bool hostio_is_zero(const void *buf, size_t len);

#endif
