/* libFuzzer target: a datastore image read from a host disk. The input
 * XORs patches into a valid image (with disks, a snapshot, a child, and in
 * one variant a committed journal transaction not yet in place); then the
 * consistency check runs, the store is opened, and every disk is read (a
 * writable store is also written). Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, so checksums do not stop
 * mutations. Nothing may crash, hang or read outside the image. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/block/blockdev.h"
#include "hv/core/time.h"
#include "hv/store/store.h"

#define IMAGE (1024u * 1024)
#define SECTOR 512u

uint64_t time_ns(void)
{
	return 0; /* requests complete at once: no timeouts */
}

static uint8_t *image;
static long fail_after = -1;

static int dev_submit(struct blockdev *dev, struct blk_request *req)
{
	uint64_t off = req->lba * SECTOR;
	int status = BLK_OK;

	if (fail_after == 0)
		status = BLK_EIO;
	else if (fail_after > 0)
		fail_after--;
	for (uint32_t i = 0; status == BLK_OK && i < req->nsegs; i++) {
		if (req->op == BLK_OP_READ)
			memcpy(req->segs[i].data, image + off, req->segs[i].len);
		else
			memcpy(image + off, req->segs[i].data, req->segs[i].len);
		off += req->segs[i].len;
	}
	blk_complete(dev, req, status);
	return BLK_OK;
}

static int dev_poll(struct blockdev *dev)
{
	(void)dev;
	return 0;
}

static const struct blk_ops ops = { .submit = dev_submit, .poll = dev_poll };
static struct blockdev dev = { .name = "fuzz0", .blocks = IMAGE / SECTOR, .block_size = SECTOR,
			       .max_transfer = 128 * 1024, .queue_depth = 4, .ops = &ops };

static void *env_alloc(size_t bytes)
{
	size_t size = (bytes + 4095) & ~(size_t)4095;
	void *p = aligned_alloc(4096, size ? size : 4096);

	if (p)
		memset(p, 0, size ? size : 4096);
	return p;
}

static void env_free(void *p, size_t bytes)
{
	(void)bytes;
	free(p);
}

static void env_random(void *buf, size_t len)
{
	static uint8_t counter;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = counter++;
}

static uint64_t env_now(void)
{
	return 0;
}

static const struct store_env env = { env_alloc, env_free, env_random, env_now };

static void write_pattern(struct store *s, const char *name, uint64_t off, uint64_t len)
{
	struct store_disk *d;
	static uint8_t buf[128 * 1024];
	struct store_iov v = { buf, len };

	memset(buf, 0x5a, len);
	if (store_disk_open(s, name, true, &d, NULL, 0) == STORE_OK) {
		store_disk_write(d, off, &v, 1);
		store_disk_close(d);
	}
}

/* templates[0]: closed cleanly; templates[1]: a transaction to replay. */
static uint8_t *templates[2];

static void build_templates(void)
{
	struct store *s;

	image = calloc(1, IMAGE);
	if (store_format(&dev, 0, dev.blocks, &env, NULL, 0) ||
	    store_open(&s, &dev, 0, dev.blocks, &env, NULL, 0))
		abort();
	store_disk_create(s, "a", 256 * 1024, NULL, NULL, 0);
	write_pattern(s, "a", 0, 128 * 1024);
	store_disk_snapshot(s, "a", NULL, NULL, 0);
	store_disk_create(s, "c", 300 * 1024, "a@1", NULL, 0);
	write_pattern(s, "c", 70 * 1024, 1024);
	store_close(s);
	templates[0] = malloc(IMAGE);
	memcpy(templates[0], image, IMAGE);
	if (store_open(&s, &dev, 0, dev.blocks, &env, NULL, 0))
		abort();
	fail_after = 3; /* flush, journal, flush; the in-place writes fail */
	store_disk_create(s, "d", 64 * 1024, NULL, NULL, 0);
	store_close(s);
	fail_after = -1;
	templates[1] = malloc(IMAGE);
	memcpy(templates[1], image, IMAGE);
}

static void report(void *ctx, const char *problem)
{
	(void)problem;
	++*(unsigned *)ctx;
}

static void exercise_disk(struct store *s, unsigned index, bool writable)
{
	struct store_disk_info info;
	struct store_disk *d;
	static uint8_t buf[64 * 1024];
	struct store_iov v = { buf, sizeof(buf) };
	uint64_t sum;

	if (store_disk_info_at(s, index, &info) || store_disk_open(s, info.name, false, &d, NULL, 0))
		return;
	for (uint64_t off = 0; off + sizeof(buf) <= info.size && off < 512 * 1024; off += sizeof(buf))
		store_disk_read(d, off, &v, 1);
	store_disk_close(d);
	if (info.size <= 4 * 1024 * 1024)
		store_disk_sum(s, info.name, &sum, NULL, 0);
	if (writable && !info.base && store_disk_open(s, info.name, true, &d, NULL, 0) == 0) {
		v.len = 1024;
		store_disk_write(d, info.size > 4096 ? 3072 : 0, &v, 1);
		store_disk_flush(d);
		store_disk_close(d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_info info;
	struct store *s;
	unsigned problems = 0;

	if (!templates[0])
		build_templates();
	if (size < 1)
		return 0;
	memcpy(image, templates[data[0] & 1], IMAGE);
	/* Patches: offset (3 bytes, in 16-byte units), length, bytes to XOR. */
	for (size_t i = 1; i + 4 <= size;) {
		uint32_t off = ((uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
				(uint32_t)data[i + 2] << 16) * 16 % IMAGE;
		size_t len = data[i + 3];
		i += 4;
		for (size_t k = 0; k < len && i < size && off + k < IMAGE; k++, i++)
			image[off + k] ^= data[i];
	}
	store_check(&dev, 0, dev.blocks, &env, report, &problems);
	if (store_open(&s, &dev, 0, dev.blocks, &env, NULL, 0) != STORE_OK)
		return 0;
	store_info(s, &info);
	for (unsigned i = 0; i < store_disk_count(s); i++)
		exercise_disk(s, i, !info.read_only);
	if (!info.read_only)
		store_disk_create(s, "new", 128 * 1024, NULL, NULL, 0);
	store_close(s);
	return 0;
}
