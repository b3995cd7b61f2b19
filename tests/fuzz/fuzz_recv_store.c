/* The incoming migration's datastore; see fuzz_recv_store.h. */
#include "tests/fuzz/fuzz_recv_store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/format.h"
#include "migrate/disk_tx.h"
#include "tests/fuzz/fuzz_env.h"

#define IMAGE (4u << 20)
#define SECTOR 512u

static uint8_t *image, *template;
static uint64_t dirty_lo = IMAGE, dirty_hi; /* bytes written since the last restore */
static struct recv_store_facts facts;

static int dev_submit(struct blockdev *dev, struct blk_request *req)
{
	uint64_t off = req->lba * SECTOR;

	for (uint32_t i = 0; i < req->nsegs; i++) {
		if (req->op == BLK_OP_READ) {
			memcpy(req->segs[i].data, image + off, req->segs[i].len);
		} else {
			uint64_t end = off + req->segs[i].len;
			memcpy(image + off, req->segs[i].data, req->segs[i].len);
			dirty_lo = off < dirty_lo ? off : dirty_lo;
			dirty_hi = end > dirty_hi ? end : dirty_hi;
		}
		off += req->segs[i].len;
	}
	blk_complete(dev, req, BLK_OK);
	return BLK_OK;
}

static int dev_poll(struct blockdev *dev)
{
	(void)dev;
	return 0;
}

static const struct blk_ops ops = { .submit = dev_submit, .poll = dev_poll };
static struct blockdev dev = { .name = "fuzzds", .blocks = IMAGE / SECTOR, .block_size = SECTOR,
			       .max_transfer = 128 * 1024, .queue_depth = 4, .ops = &ops };

static void *env_alloc(size_t bytes)
{
	return fuzz_kept_alloc(bytes ? bytes : 1, 4096);
}

static void env_free(void *p, size_t bytes)
{
	fuzz_kept_free(p, bytes ? bytes : 1);
}

/* UUIDs and content IDs that repeat from run to run, so the seeds can
 * name them; never the template's, which are drawn first. */
static void env_random(void *buf, size_t len)
{
	static uint32_t counter;

	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(counter++ * 131u + 7u);
}

static uint64_t env_now(void)
{
	return 1700000000ull;
}

static const struct store_env env = { env_alloc, env_free, env_random, env_now };

static void must(int rc, const char *what, const char *err)
{
	if (rc) {
		fprintf(stderr, "datastore template: %s: %s (%s)\n", what, store_status_name(rc),
			err);
		abort();
	}
}

static void write_pattern(struct store_disk *d, uint64_t off, uint32_t len, uint8_t seed)
{
	static uint8_t buf[64 * 1024];
	struct store_iov v = { buf, len };

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	must(store_disk_write(d, off, &v, 1), "write", "");
}

/* The fragment a cut transfer left: its first 64 KiB arrived, with the
 * CRC a source computes over the same bytes. */
static void keep_fragment(struct store *s)
{
	static uint8_t data[64 * 1024];
	struct store_iov v = { data, sizeof(data) };
	struct store_disk *d;
	unsigned id;
	char err[160] = "";

	memset(facts.kept_uuid.b, 0x4b, sizeof(facts.kept_uuid.b));
	memset(facts.kept_cid.b, 0x4c, sizeof(facts.kept_cid.b));
	facts.kept_size = 256 * 1024;
	must(store_fragment_create(s, RECV_STORE_KEPT, &facts.kept_uuid, &facts.kept_cid,
				   facts.kept_size, NULL, &id, err, sizeof(err)), "fragment", err);
	must(store_fragment_open(s, id, &d, err, sizeof(err)), "fragment open", err);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	must(store_disk_write(d, 0, &v, 1), "fragment write", "");
	facts.kept_offset = sizeof(data);
	facts.kept_crc = disk_extent_crc(0, 0, sizeof(data), data);
	must(store_fragment_checkpoint(d, facts.kept_offset, facts.kept_crc), "checkpoint", "");
	store_disk_close(d);
}

static void build(void)
{
	struct store *s;
	struct store_disk *d;
	struct store_disk_info info;
	char err[160] = "";

	image = calloc(1, IMAGE);
	template = malloc(IMAGE);
	if (!image || !template)
		abort();
	must(store_format(&dev, 0, dev.blocks, &env, err, sizeof(err)), "format", err);
	must(store_open(&s, &dev, 0, dev.blocks, &env, err, sizeof(err)), "open", err);
	must(store_disk_create(s, "gold", 256 * 1024, NULL, err, sizeof(err)), "create", err);
	must(store_disk_open(s, "gold", true, &d, err, sizeof(err)), "open gold", err);
	write_pattern(d, 0, 64 * 1024, 1);
	store_disk_close(d);
	/* Named "gold@1" by the store: the name a base gets. */
	must(store_disk_snapshot(s, "gold", NULL, err, sizeof(err)), "snapshot", err);
	must(store_disk_info(s, RECV_STORE_BASE, &info), "base info", "");
	facts.base_cid = info.content_id;
	must(store_disk_create(s, RECV_STORE_SHARED, 128 * 1024, NULL, err, sizeof(err)),
	     "create shared", err);
	must(store_disk_open(s, RECV_STORE_SHARED, true, &d, err, sizeof(err)), "open shared",
	     err);
	write_pattern(d, 64 * 1024, 4096, 2);
	must(store_disk_flush(d), "flush", "");
	store_disk_close(d);
	must(store_disk_info(s, RECV_STORE_SHARED, &info), "shared info", "");
	facts.shared_uuid = info.uuid;
	facts.shared_cid = info.content_id;
	facts.shared_size = info.size;
	keep_fragment(s);
	must(store_close(s), "close", "");
	memcpy(template, image, IMAGE);
	dirty_lo = IMAGE;
	dirty_hi = 0;
}

const struct recv_store_facts *recv_store_facts(void)
{
	if (!template)
		build();
	return &facts;
}

struct store *recv_store_open(void)
{
	struct store *s;
	char err[160] = "";

	recv_store_facts();
	if (dirty_hi > dirty_lo)
		memcpy(image + dirty_lo, template + dirty_lo, dirty_hi - dirty_lo);
	dirty_lo = IMAGE;
	dirty_hi = 0;
	must(store_open(&s, &dev, 0, dev.blocks, &env, err, sizeof(err)), "reopen", err);
	return s;
}

#define PROBLEM_MAX 160

static void first_problem(void *ctx, const char *problem)
{
	char *first = ctx;

	if (!first[0])
		fmt_snprintf(first, PROBLEM_MAX, "%s", problem);
}

int recv_store_close(struct store *s, char *why, size_t whylen)
{
	char first[PROBLEM_MAX] = "";
	int rc = store_close(s);

	if (rc) {
		fmt_snprintf(why, whylen, "store_close: %s", store_status_name(rc));
		return -1;
	}
	if (dirty_hi > dirty_lo &&
	    store_check(&dev, 0, dev.blocks, &env, first_problem, first)) {
		fmt_snprintf(why, whylen, "the datastore is inconsistent: %s", first);
		return -1;
	}
	return 0;
}
