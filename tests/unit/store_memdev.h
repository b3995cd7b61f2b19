/* A memory-backed block device for the datastore's tests, with a model of a
 * volatile write cache: a write is durable only after a flush; at a
 * simulated crash every unflushed write is independently kept, dropped, or
 * torn at sector granularity. Requests complete at the next poll. */
#ifndef TESTS_UNIT_STORE_MEMDEV_H
#define TESTS_UNIT_STORE_MEMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blockdev.h"
#include "hv/store/store.h"

struct memdev_write {
	uint64_t off;
	uint32_t len;
	uint8_t *data;
};

struct memdev {
	struct blockdev bd;
	uint8_t *durable;      /* what survives a crash */
	size_t bytes;
	struct memdev_write *pending; /* unflushed writes, oldest first */
	unsigned npending, pending_cap;
	/* Fault injection: after this many more requests (reads, writes,
	 * flushes) every request fails with BLK_EIO; -1 never. */
	long fail_after;
	uint64_t requests, failed_requests;
	struct blk_request *queue[64];
	unsigned queued;
};

/* @pre block_size 512 or 4096 */
void memdev_init(struct memdev *m, const char *name, uint64_t bytes, uint32_t block_size);
void memdev_destroy(struct memdev *m);
/* The current (volatile) view of bytes [off, off + len). */
void memdev_peek(const struct memdev *m, uint64_t off, void *buf, size_t len);
/* Changes bytes as if the medium did (no cache). */
void memdev_poke(struct memdev *m, uint64_t off, const void *buf, size_t len);
/* A power cut: unflushed writes are kept, dropped or torn, chosen by 'rng'
 * (xorshift state). Clears fail_after. */
void memdev_crash(struct memdev *m, uint64_t *rng);
uint64_t memdev_rand(uint64_t *rng);

/* A store_env on the C library (aligned_alloc), randomness from a seeded
 * generator so runs repeat. */
extern const struct store_env memdev_env;
void memdev_env_seed(uint64_t seed);
/* Bytes allocated through memdev_env and not freed. */
long memdev_env_outstanding(void);

#endif
