/* Host file helpers; see hostio.h. */
#include "tools/hvdisk/hostio.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

ssize_t hostio_read_full(int fd, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int hostio_write_full(int fd, const void *buf, size_t len, uint64_t offset, bool seekable)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = seekable ? pwrite(fd, p, len, (off_t)offset) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

bool hostio_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* Zero first byte, and every byte equal to the one before it. */
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}
