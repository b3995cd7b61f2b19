/* The datastore tests' memory block device and environment; see
 * store_memdev.h. */
#include "tests/unit/store_memdev.h"

#include <stdlib.h>
#include <string.h>

#define MEMDEV_SECTOR 512u

uint64_t memdev_rand(uint64_t *rng)
{
	uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void overlay(const struct memdev *m, uint64_t off, uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < m->npending; i++) {
		const struct memdev_write *w = &m->pending[i];
		uint64_t lo = w->off > off ? w->off : off;
		uint64_t hi = w->off + w->len < off + len ? w->off + w->len : off + len;
		if (lo < hi)
			memcpy(buf + (lo - off), w->data + (lo - w->off), hi - lo);
	}
}

void memdev_peek(const struct memdev *m, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, m->durable + off, len);
	overlay(m, off, buf, len);
}

void memdev_poke(struct memdev *m, uint64_t off, const void *buf, size_t len)
{
	/* Also over any cached write, or the cache would hide the change. */
	memcpy(m->durable + off, buf, len);
	for (unsigned i = 0; i < m->npending; i++) {
		struct memdev_write *w = &m->pending[i];
		uint64_t lo = w->off > off ? w->off : off;
		uint64_t hi = w->off + w->len < off + len ? w->off + w->len : off + len;
		if (lo < hi)
			memcpy(w->data + (lo - w->off), (const uint8_t *)buf + (lo - off), hi - lo);
	}
}

static void apply_oldest(struct memdev *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(m->durable + m->pending[i].off, m->pending[i].data, m->pending[i].len);
		free(m->pending[i].data);
	}
	memmove(m->pending, m->pending + n, (m->npending - n) * sizeof(*m->pending));
	m->npending -= n;
}

static void cache_write(struct memdev *m, uint64_t off, const uint8_t *data, uint32_t len)
{
	/* A full cache writes back on its own, as a real one may at any time. */
	if (m->npending == m->pending_cap)
		apply_oldest(m, m->pending_cap / 2);
	struct memdev_write *w = &m->pending[m->npending++];
	w->off = off;
	w->len = len;
	w->data = malloc(len);
	memcpy(w->data, data, len);
}

static int perform(struct memdev *m, struct blk_request *req)
{
	uint64_t off = req->lba * m->bd.block_size;

	if (m->fail_after == 0) {
		m->failed_requests++;
		return BLK_EIO;
	}
	if (m->fail_after > 0)
		m->fail_after--;
	m->requests++;
	if (req->op == BLK_OP_FLUSH) {
		apply_oldest(m, m->npending);
		return BLK_OK;
	}
	for (uint32_t i = 0; i < req->nsegs; i++) {
		uint32_t len = req->segs[i].len;
		if (req->op == BLK_OP_READ)
			memdev_peek(m, off, req->segs[i].data, len);
		else
			cache_write(m, off, req->segs[i].data, len);
		off += len;
	}
	return BLK_OK;
}

static int memdev_submit(struct blockdev *dev, struct blk_request *req)
{
	struct memdev *m = dev->priv;

	if (m->queued == sizeof(m->queue) / sizeof(m->queue[0]))
		return BLK_EBUSY;
	m->queue[m->queued++] = req;
	return BLK_OK;
}

static int memdev_poll(struct blockdev *dev)
{
	struct memdev *m = dev->priv;
	unsigned n = m->queued;

	/* In submission order; completion may queue nothing new (blk_io waits). */
	for (unsigned i = 0; i < n; i++) {
		struct blk_request *req = m->queue[i];
		blk_complete(dev, req, perform(m, req));
	}
	memmove(m->queue, m->queue + n, (m->queued - n) * sizeof(m->queue[0]));
	m->queued -= n;
	return (int)n;
}

static const struct blk_ops memdev_ops = { .submit = memdev_submit, .poll = memdev_poll };

void memdev_init(struct memdev *m, const char *name, uint64_t bytes, uint32_t block_size)
{
	memset(m, 0, sizeof(*m));
	strncpy(m->bd.name, name, sizeof(m->bd.name) - 1);
	strcpy(m->bd.model, "memdev");
	m->bd.block_size = block_size;
	m->bd.blocks = bytes / block_size;
	m->bd.max_transfer = 256 * 1024;
	m->bd.queue_depth = 32;
	m->bd.volatile_cache = true;
	m->bd.ops = &memdev_ops;
	m->bd.priv = m;
	m->bytes = bytes;
	m->durable = calloc(1, bytes);
	m->pending_cap = 1024;
	m->pending = calloc(m->pending_cap, sizeof(*m->pending));
	m->fail_after = -1;
}

void memdev_destroy(struct memdev *m)
{
	for (unsigned i = 0; i < m->npending; i++)
		free(m->pending[i].data);
	free(m->pending);
	free(m->durable);
	memset(m, 0, sizeof(*m));
}

static void apply_torn(struct memdev *m, const struct memdev_write *w, uint64_t *rng)
{
	for (uint32_t s = 0; s < w->len; s += MEMDEV_SECTOR)
		if (memdev_rand(rng) & 1)
			memcpy(m->durable + w->off + s, w->data + s, MEMDEV_SECTOR);
}

void memdev_crash(struct memdev *m, uint64_t *rng)
{
	for (unsigned i = 0; i < m->npending; i++) {
		struct memdev_write *w = &m->pending[i];
		switch (memdev_rand(rng) % 3) {
		case 0:
			memcpy(m->durable + w->off, w->data, w->len);
			break;
		case 1:
			break;
		default:
			apply_torn(m, w, rng);
		}
		free(w->data);
	}
	m->npending = 0;
	m->queued = 0;
	m->fail_after = -1;
	m->bd.failed = false;
	m->bd.in_flight = 0;
}

/* ---- the environment ---- */

static uint64_t env_rng = 1;
static long env_outstanding;

static size_t round_page(size_t bytes)
{
	return (bytes + 4095) & ~(size_t)4095;
}

/* Large buffers are kept for reuse: the crash test opens stores thousands
 * of times, and fresh pages for each (ASAN never reuses memory soon) cost
 * more than the test itself. Small ones are not cached, so ASAN still sees
 * use after free on metadata pages. */
#define CACHE_MIN (64 * 1024)
#define CACHE_SLOTS 16
static struct {
	void *p;
	size_t size;
} cache[CACHE_SLOTS];

static void *env_alloc(size_t bytes)
{
	size_t size = round_page(bytes ? bytes : 1);
	void *p = NULL;

	for (unsigned i = 0; i < CACHE_SLOTS && size >= CACHE_MIN && !p; i++)
		if (cache[i].p && cache[i].size == size) {
			p = cache[i].p;
			cache[i].p = NULL;
		}
	if (!p)
		p = aligned_alloc(4096, size);
	if (p) {
		memset(p, 0, size);
		env_outstanding += (long)bytes;
	}
	return p;
}

static void env_free(void *p, size_t bytes)
{
	size_t size = round_page(bytes ? bytes : 1);

	env_outstanding -= (long)bytes;
	for (unsigned i = 0; i < CACHE_SLOTS && size >= CACHE_MIN; i++)
		if (!cache[i].p) {
			memset(p, 0xa5, size); /* stale contents must not look valid */
			cache[i].p = p;
			cache[i].size = size;
			return;
		}
	free(p);
}

static void env_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(memdev_rand(&env_rng) >> 56);
}

static uint64_t env_now(void)
{
	return 1700000000;
}

const struct store_env memdev_env = {
	.alloc = env_alloc, .free = env_free, .random = env_random, .now_s = env_now,
};

void memdev_env_seed(uint64_t seed)
{
	env_rng = seed ? seed : 1;
}

long memdev_env_outstanding(void)
{
	return env_outstanding;
}
