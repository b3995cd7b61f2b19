/* The block layer: the device registry, request checks, completion
 * accounting and synchronous I/O over the asynchronous drivers. See
 * blockdev.h. Host-buildable: the only outside dependency is time_ns(). */
#include "drivers/block/blockdev.h"

#include "hv/core/time.h"
#include "hv/lib/string.h"

/* Requests blk_io keeps in flight at once (each is ~600 bytes of stack). */
#define BLK_IO_DEPTH 4

static struct blockdev *devices[BLK_MAX_DEVICES];
static unsigned ndevices;

int blk_register(struct blockdev *dev)
{
	if (ndevices >= BLK_MAX_DEVICES)
		return -1;
	devices[ndevices] = dev;
	return (int)ndevices++;
}

unsigned blk_count(void)
{
	return ndevices;
}

struct blockdev *blk_get(unsigned index)
{
	return index < ndevices ? devices[index] : NULL;
}

struct blockdev *blk_find(const char *name)
{
	for (unsigned i = 0; i < ndevices; i++)
		if (!strcmp(devices[i]->name, name))
			return devices[i];
	return NULL;
}

/* Bytes the request moves; 0 when a segment list is malformed (too many
 * segments, an empty one, or a sum past 32 bits). */
static uint64_t request_bytes(const struct blk_request *req)
{
	uint64_t total = 0;

	if (req->nsegs < 1 || req->nsegs > BLK_MAX_SEGS)
		return 0;
	for (uint32_t i = 0; i < req->nsegs; i++) {
		if (!req->segs[i].len || !req->segs[i].data)
			return 0;
		total += req->segs[i].len;
	}
	return total;
}

static int check_request(const struct blockdev *dev, const struct blk_request *req)
{
	if (req->op == BLK_OP_FLUSH)
		return req->nsegs == 0 ? BLK_OK : BLK_EINVAL;
	if (req->op != BLK_OP_READ && req->op != BLK_OP_WRITE)
		return BLK_EINVAL;
	uint64_t bytes = request_bytes(req);
	if (!bytes || bytes % dev->block_size || bytes > dev->max_transfer)
		return BLK_EINVAL;
	uint64_t count = bytes / dev->block_size;
	if (req->lba >= dev->blocks || count > dev->blocks - req->lba)
		return BLK_EINVAL;
	if (req->op == BLK_OP_WRITE && dev->read_only)
		return BLK_EROFS;
	return BLK_OK;
}

int blk_submit(struct blockdev *dev, struct blk_request *req)
{
	if (dev->failed)
		return BLK_ENODEV;
	int rc = check_request(dev, req);
	if (rc != BLK_OK)
		return rc;
	if (dev->in_flight >= dev->queue_depth) {
		dev->stats.busy++;
		return BLK_EBUSY;
	}
	req->status = BLK_OK;
	req->completed = false;
	req->submitted_ns = time_ns();
	/* Counted before the driver sees it: a driver may complete it at once. */
	dev->in_flight++;
	rc = dev->ops->submit(dev, req);
	if (rc != BLK_OK) {
		dev->in_flight--;
		if (rc == BLK_EBUSY)
			dev->stats.busy++;
	}
	return rc;
}

void blk_complete(struct blockdev *dev, struct blk_request *req, int status)
{
	if (req->completed) {
		/* A driver bug or a device answering twice: never call done twice. */
		dev->stats.bad_completions++;
		return;
	}
	uint64_t bytes = req->op == BLK_OP_FLUSH ? 0 : request_bytes(req);
	switch (req->op) {
	case BLK_OP_READ:
		dev->stats.reads++;
		dev->stats.read_bytes += status == BLK_OK ? bytes : 0;
		break;
	case BLK_OP_WRITE:
		dev->stats.writes++;
		dev->stats.write_bytes += status == BLK_OK ? bytes : 0;
		break;
	case BLK_OP_FLUSH:
		dev->stats.flushes++;
		break;
	}
	if (status != BLK_OK)
		dev->stats.errors++;
	if (dev->in_flight)
		dev->in_flight--;
	req->status = status;
	__asm__ volatile("" ::: "memory");
	req->completed = true;
	if (req->done)
		req->done(req);
}

int blk_poll_all(void)
{
	int n = 0;

	for (unsigned i = 0; i < ndevices; i++)
		if (!devices[i]->failed)
			n += devices[i]->ops->poll(devices[i]);
	return n;
}

void blk_mark_failed(struct blockdev *dev)
{
	if (dev->failed)
		return;
	dev->failed = true;
	if (dev->ops->stop)
		dev->ops->stop(dev);
}

static bool expired(uint64_t since_ns)
{
	return time_ns() - since_ns >= BLK_TIMEOUT_NS;
}

/* Submits, polling the device while its queue is full. A queue that stays
 * full for BLK_TIMEOUT_NS means a stuck device. */
static int submit_waiting(struct blockdev *dev, struct blk_request *req)
{
	uint64_t start = time_ns();
	int rc;

	while ((rc = blk_submit(dev, req)) == BLK_EBUSY) {
		if (expired(start)) {
			dev->stats.timeouts++;
			blk_mark_failed(dev);
			return BLK_ETIMEDOUT;
		}
		dev->ops->poll(dev);
	}
	return rc;
}

/* Polls until the request completes; on timeout the device goes out of
 * service, since the request's memory returns to the caller. */
static int wait_request(struct blockdev *dev, struct blk_request *req)
{
	while (!req->completed) {
		if (expired(req->submitted_ns)) {
			dev->stats.timeouts++;
			blk_mark_failed(dev);
			return BLK_ETIMEDOUT;
		}
		dev->ops->poll(dev);
	}
	return req->status;
}

int blk_flush(struct blockdev *dev)
{
	struct blk_request req = { .op = BLK_OP_FLUSH };
	int rc = submit_waiting(dev, &req);

	return rc == BLK_OK ? wait_request(dev, &req) : rc;
}

/* The synchronous transfer's progress: up to BLK_IO_DEPTH requests in
 * flight over consecutive pieces of one buffer. */
struct io_run {
	struct blockdev *dev;
	struct blk_request req[BLK_IO_DEPTH];
	bool busy[BLK_IO_DEPTH];
	unsigned depth;
	int status; /* the first error */
};

/* Waits for every request still in flight; the first error wins. */
static int drain(struct io_run *r)
{
	for (unsigned i = 0; i < r->depth; i++) {
		if (!r->busy[i])
			continue;
		int rc = wait_request(r->dev, &r->req[i]);
		if (rc == BLK_ETIMEDOUT)
			return BLK_ETIMEDOUT; /* the device is out of service */
		r->busy[i] = false;
		if (rc != BLK_OK && r->status == BLK_OK)
			r->status = rc;
	}
	return r->status;
}

/* A free slot, after waiting for the oldest request if all are busy.
 * Returns -1 once a request failed or timed out. */
static int free_slot(struct io_run *r, unsigned *next)
{
	unsigned i = *next;

	*next = (i + 1) % r->depth;
	if (r->busy[i]) {
		int rc = wait_request(r->dev, &r->req[i]);
		r->busy[i] = false;
		if (rc != BLK_OK) {
			r->status = rc;
			return -1;
		}
	}
	return (int)i;
}

static uint32_t chunk_limit(const struct blockdev *dev)
{
	return dev->max_transfer - dev->max_transfer % dev->block_size;
}

int blk_io(struct blockdev *dev, enum blk_op op, uint64_t lba, void *buf, uint64_t bytes,
	   bool fua)
{
	if (op == BLK_OP_FLUSH)
		return blk_flush(dev);
	if (dev->failed)
		return BLK_ENODEV;
	uint32_t limit = chunk_limit(dev);
	if ((op != BLK_OP_READ && op != BLK_OP_WRITE) || !limit || bytes % dev->block_size ||
	    lba > dev->blocks || bytes / dev->block_size > dev->blocks - lba)
		return BLK_EINVAL;

	struct io_run r = { .dev = dev, .status = BLK_OK };
	r.depth = dev->queue_depth < BLK_IO_DEPTH ? dev->queue_depth : BLK_IO_DEPTH;
	if (!r.depth)
		r.depth = 1;
	unsigned next = 0;
	for (uint64_t done = 0; done < bytes;) {
		int slot = free_slot(&r, &next);
		if (slot < 0)
			break;
		uint32_t len = bytes - done < limit ? (uint32_t)(bytes - done) : limit;
		struct blk_request *req = &r.req[slot];
		*req = (struct blk_request){ .op = op, .fua = fua, .nsegs = 1,
					     .lba = lba + done / dev->block_size };
		req->segs[0] = (struct blk_seg){ .data = (uint8_t *)buf + done, .len = len };
		int rc = submit_waiting(dev, req);
		if (rc != BLK_OK) {
			r.status = rc;
			break;
		}
		r.busy[slot] = true;
		done += len;
	}
	/* Out of service: what is still in flight is abandoned (the device was
	 * stopped), never waited for. */
	if (dev->failed)
		return r.status == BLK_OK ? BLK_ENODEV : r.status;
	return drain(&r);
}

const char *blk_status_name(int status)
{
	switch (status) {
	case BLK_OK:
		return "ok";
	case BLK_EIO:
		return "I/O error";
	case BLK_EINVAL:
		return "invalid request";
	case BLK_ETIMEDOUT:
		return "timed out";
	case BLK_EROFS:
		return "read-only device";
	case BLK_EBUSY:
		return "queue full";
	case BLK_ENODEV:
		return "device out of service";
	default:
		return "unknown status";
	}
}
