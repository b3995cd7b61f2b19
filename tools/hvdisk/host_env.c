/* The store_env of hvdisk and time_ns(); see host_env.h. */
#define _GNU_SOURCE
#include "tools/hvdisk/host_env.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hv/core/time.h"

#define HOST_ALIGN 4096u

static void *host_alloc(size_t bytes)
{
	size_t rounded = (bytes + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN;
	void *p;

	if (rounded == 0 || rounded < bytes)
		return NULL;
	p = aligned_alloc(HOST_ALIGN, rounded);
	if (p)
		memset(p, 0, rounded);
	return p;
}

static void host_free(void *p, size_t bytes)
{
	(void)bytes;
	free(p);
}

static bool urandom_fill(uint8_t *p, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0;

	while (ok && len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		if (ok) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* UUIDs from a predictable source would collide across images that are
 * later put on one host, so without randomness the tool stops. */
static void host_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t left = len;

	while (left) {
		ssize_t n = getrandom(p, left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
	if (left && !urandom_fill(p, left)) {
		fprintf(stderr, "hvdisk: error: no random numbers (getrandom and /dev/urandom failed)\n");
		exit(1);
	}
}

static uint64_t host_now_s(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

const struct store_env host_store_env = {
	.alloc = host_alloc,
	.free = host_free,
	.random = host_random,
	.now_s = host_now_s,
};

uint64_t time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
