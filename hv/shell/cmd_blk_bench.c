/* blk bench DEV read|write|randread|randwrite [size=MB] [bs=KiB] [qd=N] [force]
 *
 * The hypervisor's own driver, direct, over the first size MB (default
 * 64): sequential (bs default 128 KiB) or random (bs default 4 KiB,
 * block-aligned offsets from xorshift64), with qd requests in flight
 * (default 1) through blk_submit and the driver's poll. The issue's
 * benchmark compares guests' virtio-blk figures against these.
 *
 * What a write leaves on the device, so tests can check it from outside:
 * every 512-byte sector written holds its own byte offset on the device as
 * a little-endian 64-bit number in its first 8 bytes, then 504 bytes of
 * 0xA5. */
#include "drivers/block/blockdev.h"
#include "hv/core/time.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/shell/cmd_blk.h"
#include "hv/x86/cpu.h"

#define BENCH_MAX_QD 32
#define BENCH_SECTOR 512
#define BENCH_FILL 0xa5

struct bench {
	struct blockdev *dev;
	bool write, random;
	uint32_t bs, qd;
	uint64_t span;        /* bytes from offset 0 the run covers */
	uint64_t ios, next_offset, rng;
	uint8_t *buf;         /* qd buffers of bs bytes */
	uint64_t buf_pages;
	struct blk_request req[BENCH_MAX_QD];
	bool busy[BENCH_MAX_QD];
};

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool parse_opt(const char *arg, const char *key, uint64_t *out)
{
	size_t n = strlen(key);
	return !strncmp(arg, key, n) && parse_u64(arg + n, out);
}

/* Options after the mode; false with the error printed. */
static bool parse_args(struct shell *sh, struct bench *b, int argc, char **argv, bool *force)
{
	uint64_t size_mb = 64, bs_kib = b->random ? 4 : 128, qd = 1;

	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "force"))
			*force = true;
		else if (!parse_opt(argv[i], "size=", &size_mb) &&
			 !parse_opt(argv[i], "bs=", &bs_kib) && !parse_opt(argv[i], "qd=", &qd))
			return sh_error(sh, "unknown option '%.24s'", argv[i]), false;
	}
	b->bs = (uint32_t)(bs_kib * 1024);
	if (!bs_kib || bs_kib > 4096 || b->bs > b->dev->max_transfer || b->bs % b->dev->block_size)
		return sh_error(sh, "bs must be a multiple of %u bytes, at most %u KiB",
				b->dev->block_size, b->dev->max_transfer / 1024), false;
	if (!qd || qd > BENCH_MAX_QD || qd > b->dev->queue_depth)
		return sh_error(sh, "qd must be 1-%u", b->dev->queue_depth < BENCH_MAX_QD ?
					       b->dev->queue_depth : BENCH_MAX_QD), false;
	b->qd = (uint32_t)qd;
	b->span = size_mb << 20;
	if (!size_mb || size_mb > (1u << 20) || b->span > b->dev->blocks * b->dev->block_size ||
	    b->span < b->bs)
		return sh_error(sh, "size must be 1 MB up to the device's size"), false;
	b->ios = b->span / b->bs;
	return true;
}

/* The pattern of the header comment, for the bs bytes at 'offset'. */
static void stamp(uint8_t *p, uint32_t len, uint64_t offset)
{
	for (uint32_t s = 0; s < len; s += BENCH_SECTOR)
		put_le64(p + s, offset + s);
}

static void prepare(struct bench *b, unsigned slot)
{
	uint64_t offset;

	if (b->random) {
		offset = xorshift64(&b->rng) % b->ios * b->bs;
	} else {
		offset = b->next_offset;
		b->next_offset += b->bs;
	}
	uint8_t *data = b->buf + (uint64_t)slot * b->bs;
	if (b->write)
		stamp(data, b->bs, offset);
	b->req[slot] = (struct blk_request){ .op = b->write ? BLK_OP_WRITE : BLK_OP_READ,
					     .lba = offset / b->dev->block_size, .nsegs = 1 };
	b->req[slot].segs[0] = (struct blk_seg){ data, b->bs };
}

/* Keeps qd requests in flight until 'ios' completed; a blk_status. */
static int run(struct bench *b)
{
	uint64_t submitted = 0, completed = 0, progress = time_ns();
	int status = BLK_OK;

	while (completed < submitted || (submitted < b->ios && status == BLK_OK)) {
		for (unsigned i = 0; i < b->qd && submitted < b->ios && status == BLK_OK; i++) {
			if (b->busy[i])
				continue;
			prepare(b, i);
			int rc = blk_submit(b->dev, &b->req[i]);
			if (rc == BLK_EBUSY) {
				if (!b->random)
					b->next_offset -= b->bs; /* retried next round */
				break;
			}
			if (rc != BLK_OK) {
				status = rc;
			} else {
				b->busy[i] = true;
				submitted++;
			}
		}
		b->dev->ops->poll(b->dev);
		for (unsigned i = 0; i < b->qd; i++) {
			if (!b->busy[i] || !b->req[i].completed)
				continue;
			b->busy[i] = false;
			completed++;
			progress = time_ns();
			if (b->req[i].status != BLK_OK && status == BLK_OK)
				status = b->req[i].status;
		}
		if (time_ns() - progress > BLK_TIMEOUT_NS) {
			b->dev->stats.timeouts++;
			blk_mark_failed(b->dev); /* the buffers stay allocated: never reused */
			return BLK_ETIMEDOUT;
		}
	}
	return status;
}

static void report(struct shell *sh, const struct bench *b, uint64_t tsc, uint64_t ns)
{
	uint64_t bytes = b->ios * b->bs;

	if (!ns)
		ns = 1;
	uint64_t tenths = bytes * 10000 / ns; /* MB/s (10^6 bytes) x 10 */
	sh_printf(sh, "bytes=%lu ios=%lu tsc=%lu ns=%lu mbps=%lu.%lu iops=%lu\n",
		  (unsigned long)bytes, (unsigned long)b->ios, (unsigned long)tsc,
		  (unsigned long)ns, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10),
		  (unsigned long)(b->ios * NS_PER_SEC / ns));
}

int blk_bench(struct shell *sh, int argc, char **argv)
{
	static struct bench b;
	const char *mode = argv[3];
	bool force = false;

	b = (struct bench){ .dev = blk_cmd_device(sh, argv[2]), .rng = 0x9e3779b97f4a7c15ull };
	if (!b.dev)
		return SHELL_FAILED;
	b.write = !strcmp(mode, "write") || !strcmp(mode, "randwrite");
	b.random = !strcmp(mode, "randread") || !strcmp(mode, "randwrite");
	if (!b.write && !b.random && strcmp(mode, "read"))
		return sh_error(sh, "mode must be read, write, randread or randwrite");
	if (!parse_args(sh, &b, argc, argv, &force))
		return SHELL_FAILED;
	if (b.write && b.dev->read_only)
		return sh_error(sh, "%s is read-only", b.dev->name);
	if (b.write && !force && blk_holds_datastore(b.dev))
		return sh_error(sh, "%s holds a datastore: a write benchmark destroys it; add "
				    "'force' to do it anyway", b.dev->name);
	b.buf_pages = ((uint64_t)b.qd * b.bs + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t pa = pages_alloc(b.buf_pages, 1);
	if (!pa)
		return sh_error(sh, "no %lu KiB for the buffers", (unsigned long)(b.buf_pages * 4));
	b.buf = phys_to_virt(pa);
	memset(b.buf, BENCH_FILL, b.buf_pages * PAGE_SIZE);

	uint64_t t0 = time_ns(), c0 = rdtsc();
	int rc = run(&b);
	uint64_t c1 = rdtsc(), t1 = time_ns();
	if (rc == BLK_OK && b.write)
		rc = blk_flush(b.dev);
	if (rc != BLK_ETIMEDOUT)
		pages_free(pa, b.buf_pages);
	if (rc != BLK_OK)
		return sh_error(sh, "%s: %s", b.dev->name, blk_status_name(rc));
	report(sh, &b, c1 - c0, t1 - t0);
	return SHELL_OK;
}
