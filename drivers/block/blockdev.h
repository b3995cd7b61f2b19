/* One interface for every host block driver (virtio-blk, NVMe, the RAM
 * disk): requests queued concurrently, completed asynchronously, found by
 * polling, never by interrupts (like the NICs: the main loop polls).
 *
 * Buffers are host memory; the hypervisor identity-maps all of it, so a
 * pointer is also the address the device DMAs to. Drivers never trust the
 * device: a completion naming a request that is not in flight, or a length
 * or queue index out of range, is counted in stats.bad_completions and not
 * followed. */
#ifndef DRIVERS_BLOCK_BLOCKDEV_H
#define DRIVERS_BLOCK_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_MAX_DEVICES 8
#define BLK_MAX_SEGS 32

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH, /* every write completed before it is durable when it completes */
};

/* Request results; 0 is success. */
enum blk_status {
	BLK_OK = 0,
	BLK_EIO = -1,       /* the device reported an error */
	BLK_EINVAL = -2,    /* outside the device, misaligned, too many segments */
	BLK_ETIMEDOUT = -3, /* the device did not answer in time (the request is abandoned) */
	BLK_EROFS = -4,     /* a write to a read-only device */
	BLK_EBUSY = -5,     /* submit only: the queue is full, poll and try again */
	BLK_ENODEV = -6,    /* the device failed and is out of service */
};

/* A piece of a request's buffer. @pre data is host memory that stays
 * valid until the request completes */
struct blk_seg {
	void *data;
	uint32_t len;
};

struct blk_request;
typedef void (*blk_done_fn)(struct blk_request *req);

struct blk_request {
	enum blk_op op;
	bool fua;               /* write: durable on completion (forced unit access) */
	uint64_t lba;           /* first block, in the device's block size */
	uint32_t nsegs;         /* 0 for FLUSH */
	struct blk_seg segs[BLK_MAX_SEGS]; /* lengths sum to a multiple of block_size */
	blk_done_fn done;       /* called from the driver's poll, once; may be NULL */
	void *ctx;              /* the submitter's */
	/* Set by the block layer: */
	int status;             /* enum blk_status, valid once 'completed' */
	volatile bool completed;
	uint64_t submitted_ns;
};

struct blockdev;

struct blk_ops {
	/* Queues the request. Returns BLK_OK, BLK_EBUSY (nothing queued) or
	 * another error (nothing queued, the request is not completed).
	 * @pre the block layer checked range, segments and op */
	int (*submit)(struct blockdev *dev, struct blk_request *req);
	/* Completes finished requests (blk_complete); returns how many. */
	int (*poll)(struct blockdev *dev);
	/* Optional: stops the device (a reset) so that nothing still in
	 * flight is transferred later; called once when the block layer takes
	 * the device out of service (blk_mark_failed). */
	void (*stop)(struct blockdev *dev);
};

struct blk_stats {
	uint64_t reads, writes, flushes;
	uint64_t read_bytes, write_bytes;
	uint64_t errors;          /* requests that completed with an error */
	uint64_t bad_completions; /* device answers that were not followed */
	uint64_t timeouts;
	uint64_t busy;            /* submits refused with BLK_EBUSY */
};

struct blockdev {
	char name[16];            /* vblk0, nvme0n1, ram0 */
	char model[48];           /* "virtio-blk", "NVMe QEMU NVMe Ctrl" */
	uint64_t blocks;          /* capacity in block_size units */
	uint32_t block_size;      /* 512 or 4096 */
	uint32_t max_transfer;    /* bytes per request */
	uint32_t queue_depth;     /* requests in flight at most */
	bool read_only;
	bool volatile_cache;      /* FLUSH is needed for durability */
	bool failed;              /* out of service: submits get BLK_ENODEV */
	uint32_t in_flight;       /* counted by the block layer */
	const struct blk_ops *ops;
	void *priv;
	struct blk_stats stats;
};

/* Adds a probed device; returns its index or -1 when the table is full.
 * @pre name, blocks, block_size, max_transfer, queue_depth, ops set */
int blk_register(struct blockdev *dev);
unsigned blk_count(void);
struct blockdev *blk_get(unsigned index);
struct blockdev *blk_find(const char *name);

/* Checks the request (range, op, segment lengths, read-only), clears its
 * status and passes it to the driver. Returns what the driver returned, or
 * BLK_EINVAL/BLK_EROFS without queueing. */
int blk_submit(struct blockdev *dev, struct blk_request *req);
/* For drivers: the request is finished with 'status'. Counts it, marks it
 * completed and calls its done function. */
void blk_complete(struct blockdev *dev, struct blk_request *req, int status);
/* Polls every device once; returns the completions. */
int blk_poll_all(void);
/* Takes the device out of service: a request timed out (its memory may be
 * reused, so the device must never finish it) or the device reported a
 * fatal state. Stops it (ops->stop) once; later submits get BLK_ENODEV. */
void blk_mark_failed(struct blockdev *dev);

/* Synchronous I/O for code that waits anyway (the datastore, the console):
 * submits (retrying while the queue is busy), then polls until completion
 * or BLK_TIMEOUT_NS. A contiguous buffer is cut into requests of at most
 * max_transfer bytes (a few in flight at once). A request that times out
 * takes the device out of service (blk_mark_failed): its buffer goes back
 * to the caller, so the device must never complete it. Returns a
 * blk_status. */
#define BLK_TIMEOUT_NS (30ull * 1000000000ull)
int blk_io(struct blockdev *dev, enum blk_op op, uint64_t lba, void *buf, uint64_t bytes,
	   bool fua);
int blk_flush(struct blockdev *dev);

const char *blk_status_name(int status);

#endif
