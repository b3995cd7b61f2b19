/* The block layer against a fake device: request checks, completion
 * accounting, blk_io's splitting and queueing, a busy queue, a device that
 * never answers (timeout takes it out of service). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "drivers/block/blockdev.h"

extern uint64_t host_time_skew_ns; /* tests/unit/host_time.c */

#define FAKE_BLOCKS 256
#define FAKE_BS 512
#define FAKE_QUEUE 8

/* A device over a RAM array; requests are held until poll, which completes
 * them in order unless told to stall. */
struct fake {
	uint8_t disk[FAKE_BLOCKS * FAKE_BS];
	struct blk_request *queue[FAKE_QUEUE];
	unsigned queued;
	unsigned submits, busy_left, stops, max_in_flight;
	bool stall;           /* poll never completes; each poll is a second later */
	int fail_status;      /* complete with this status */
	struct { uint64_t lba; uint32_t len; void *data; } log[64];
	unsigned nlog;
};

static struct fake fk;
static struct blockdev dev;

static int fake_submit(struct blockdev *d, struct blk_request *req)
{
	fk.submits++;
	if (fk.busy_left) {
		fk.busy_left--;
		return BLK_EBUSY;
	}
	if (fk.queued == FAKE_QUEUE)
		return BLK_EBUSY;
	if (fk.nlog < 64 && req->op != BLK_OP_FLUSH)
		fk.log[fk.nlog++] = (typeof(fk.log[0])){ req->lba, req->segs[0].len,
							  req->segs[0].data };
	fk.queue[fk.queued++] = req;
	if (d->in_flight > fk.max_in_flight)
		fk.max_in_flight = d->in_flight;
	return BLK_OK;
}

static void fake_transfer(struct blk_request *req)
{
	uint8_t *p = fk.disk + req->lba * FAKE_BS;
	for (uint32_t i = 0; i < req->nsegs; i++) {
		if (req->op == BLK_OP_READ)
			memcpy(req->segs[i].data, p, req->segs[i].len);
		else
			memcpy(p, req->segs[i].data, req->segs[i].len);
		p += req->segs[i].len;
	}
}

static int fake_poll(struct blockdev *d)
{
	if (fk.stall) {
		host_time_skew_ns += 1000000000ull;
		return 0;
	}
	int n = (int)fk.queued;
	for (unsigned i = 0; i < fk.queued; i++) {
		if (!fk.fail_status && fk.queue[i]->op != BLK_OP_FLUSH)
			fake_transfer(fk.queue[i]);
		blk_complete(d, fk.queue[i], fk.fail_status);
	}
	fk.queued = 0;
	return n;
}

static void fake_stop(struct blockdev *d)
{
	(void)d;
	fk.stops++;
}

static const struct blk_ops fake_ops = { .submit = fake_submit, .poll = fake_poll,
					 .stop = fake_stop };

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	dev = (struct blockdev){ .name = "fake0", .blocks = FAKE_BLOCKS, .block_size = FAKE_BS,
				 .max_transfer = 8192, .queue_depth = FAKE_QUEUE,
				 .ops = &fake_ops };
}

static uint8_t buf[FAKE_BLOCKS * FAKE_BS];

static struct blk_request rw(enum blk_op op, uint64_t lba, uint32_t len)
{
	struct blk_request r = { .op = op, .lba = lba, .nsegs = 1 };
	r.segs[0] = (struct blk_seg){ buf, len };
	return r;
}

Test(blockdev, the_registry_finds_devices_and_fills_up, .init = setup)
{
	static struct blockdev devs[BLK_MAX_DEVICES + 1];
	for (int i = 0; i <= BLK_MAX_DEVICES; i++) {
		snprintf(devs[i].name, sizeof(devs[i].name), "d%d", i);
		cr_assert_eq(blk_register(&devs[i]), i < BLK_MAX_DEVICES ? i : -1);
	}
	cr_assert_eq(blk_count(), BLK_MAX_DEVICES);
	cr_assert_eq(blk_get(3), &devs[3]);
	cr_assert_null(blk_get(BLK_MAX_DEVICES));
	cr_assert_eq(blk_find("d5"), &devs[5]);
	cr_assert_null(blk_find("d8"));
	cr_assert_null(blk_find("d"));
}

Test(blockdev, malformed_requests_are_refused_before_the_driver, .init = setup)
{
	struct blk_request r = rw(BLK_OP_READ, 0, 1000);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "not a multiple of the block size");
	r = rw(BLK_OP_READ, 0, 8192 + 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "above max_transfer");
	r = rw(BLK_OP_READ, FAKE_BLOCKS - 1, 1024);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "past the end");
	r = rw(BLK_OP_READ, FAKE_BLOCKS, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "starts at the end");
	r = rw(BLK_OP_READ, UINT64_MAX, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "lba + count overflows");
	r = rw(BLK_OP_WRITE, 0, 512);
	r.nsegs = 0;
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "no segments");
	r.nsegs = BLK_MAX_SEGS + 1;
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "too many segments");
	r = rw(BLK_OP_WRITE, 0, 512);
	r.nsegs = 2;
	r.segs[1] = (struct blk_seg){ buf, 0 };
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "an empty segment");
	r = rw(BLK_OP_FLUSH, 0, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "a flush carries no data");
	r = rw((enum blk_op)7, 0, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EINVAL, "unknown op");
	dev.read_only = true;
	r = rw(BLK_OP_WRITE, 0, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_EROFS);
	cr_assert_eq(fk.submits, 0);
	cr_assert_eq(dev.in_flight, 0);
}

Test(blockdev, valid_requests_reach_the_driver_and_complete_with_stats, .init = setup)
{
	struct blk_request r = rw(BLK_OP_WRITE, FAKE_BLOCKS - 2, 512);
	r.nsegs = 2;
	r.segs[1] = (struct blk_seg){ buf + 512, 512 };
	r.status = 99;
	r.completed = true;
	cr_assert_eq(blk_submit(&dev, &r), BLK_OK, "the last two blocks");
	cr_assert_eq(r.status, BLK_OK);
	cr_assert_not(r.completed);
	cr_assert_neq(r.submitted_ns, 0);
	cr_assert_eq(dev.in_flight, 1);
	struct blk_request f = { .op = BLK_OP_FLUSH };
	cr_assert_eq(blk_submit(&dev, &f), BLK_OK);
	cr_assert_eq(blk_poll_all(), 0, "not registered: blk_poll_all does not see it");
	cr_assert_eq(blk_register(&dev), 0);
	cr_assert_eq(blk_poll_all(), 2);
	cr_assert(r.completed && f.completed);
	cr_assert_eq(dev.in_flight, 0);
	cr_assert_eq(dev.stats.writes, 1);
	cr_assert_eq(dev.stats.write_bytes, 1024);
	cr_assert_eq(dev.stats.flushes, 1);
	cr_assert_eq(dev.stats.errors, 0);
}

static int done_calls;
static void count_done(struct blk_request *req)
{
	cr_assert(req->completed, "done runs after completed is set");
	done_calls++;
}

Test(blockdev, a_second_completion_is_counted_not_delivered, .init = setup)
{
	struct blk_request r = rw(BLK_OP_READ, 0, 512);
	r.done = count_done;
	cr_assert_eq(blk_submit(&dev, &r), BLK_OK);
	blk_complete(&dev, &r, BLK_EIO);
	blk_complete(&dev, &r, BLK_OK);
	cr_assert_eq(done_calls, 1);
	cr_assert_eq(r.status, BLK_EIO);
	cr_assert_eq(dev.stats.reads, 1);
	cr_assert_eq(dev.stats.read_bytes, 0, "failed reads move no bytes");
	cr_assert_eq(dev.stats.errors, 1);
	cr_assert_eq(dev.stats.bad_completions, 1);
}

Test(blockdev, a_full_queue_is_busy_without_calling_the_driver, .init = setup)
{
	dev.queue_depth = 2;
	struct blk_request a = rw(BLK_OP_READ, 0, 512), b = a, c = a;
	cr_assert_eq(blk_submit(&dev, &a), BLK_OK);
	cr_assert_eq(blk_submit(&dev, &b), BLK_OK);
	cr_assert_eq(blk_submit(&dev, &c), BLK_EBUSY);
	cr_assert_eq(fk.submits, 2);
	cr_assert_eq(dev.stats.busy, 1);
	fk.busy_left = 1;
	fake_poll(&dev);
	cr_assert_eq(blk_submit(&dev, &c), BLK_EBUSY, "the driver's own refusal");
	cr_assert_eq(dev.stats.busy, 2);
	cr_assert_eq(dev.in_flight, 0);
}

Test(blockdev, blk_io_cuts_a_buffer_at_max_transfer_and_round_trips, .init = setup)
{
	dev.max_transfer = 5000; /* rounded down to 4608 = 9 blocks */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(blk_io(&dev, BLK_OP_WRITE, 10, buf, 20 * 512, false), BLK_OK);
	cr_assert_eq(fk.nlog, 3);
	uint64_t lbas[] = { 10, 19, 28 };
	uint32_t lens[] = { 4608, 4608, 1024 };
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(fk.log[i].lba, lbas[i]);
		cr_assert_eq(fk.log[i].len, lens[i]);
		cr_assert_eq(fk.log[i].data, buf + (lbas[i] - 10) * 512);
	}
	cr_assert_eq(memcmp(fk.disk + 10 * 512, buf, 20 * 512), 0);
	static uint8_t back[20 * 512];
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 10, back, sizeof(back), false), BLK_OK);
	cr_assert_eq(memcmp(back, buf, sizeof(back)), 0);
	cr_assert_eq(dev.stats.writes, 3);
	cr_assert_eq(dev.stats.read_bytes, sizeof(back));
	cr_assert_eq(dev.in_flight, 0);
}

Test(blockdev, blk_io_keeps_several_requests_in_flight_within_the_queue_depth, .init = setup)
{
	dev.max_transfer = 512;
	dev.queue_depth = 3;
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 0, buf, 16 * 512, false), BLK_OK);
	cr_assert_eq(fk.nlog, 16);
	cr_assert_eq(fk.max_in_flight, 3);
}

Test(blockdev, blk_io_refuses_bad_ranges_and_sizes, .init = setup)
{
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 0, buf, 100, false), BLK_EINVAL);
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, FAKE_BLOCKS - 1, buf, 1024, false), BLK_EINVAL);
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, UINT64_MAX, buf, 512, false), BLK_EINVAL);
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 3, buf, 0, false), BLK_OK, "nothing to do");
	cr_assert_eq(fk.submits, 0);
}

Test(blockdev, blk_io_retries_a_busy_queue_after_polling, .init = setup)
{
	fk.busy_left = 3;
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 0, buf, 512, false), BLK_OK);
	cr_assert_eq(fk.submits, 4);
	cr_assert_eq(dev.stats.busy, 3);
	cr_assert_eq(dev.stats.reads, 1);
}

Test(blockdev, a_device_error_is_returned_after_the_rest_finished, .init = setup)
{
	fk.fail_status = BLK_EIO;
	cr_assert_eq(blk_io(&dev, BLK_OP_WRITE, 0, buf, 4 * 8192, true), BLK_EIO);
	cr_assert_eq(dev.in_flight, 0);
	cr_assert_geq(dev.stats.errors, 1);
	cr_assert_not(dev.failed, "an error is not a dead device");
	fk.fail_status = BLK_OK;
	cr_assert_eq(blk_flush(&dev), BLK_OK);
}

Test(blockdev, a_timeout_takes_the_device_out_of_service, .init = setup)
{
	fk.stall = true;
	cr_assert_eq(blk_io(&dev, BLK_OP_WRITE, 0, buf, 3 * 8192, false), BLK_ETIMEDOUT);
	cr_assert(dev.failed);
	cr_assert_eq(fk.stops, 1, "the driver stopped the device once");
	cr_assert_eq(dev.stats.timeouts, 1);
	uint64_t slept = host_time_skew_ns;
	cr_assert_geq(slept, BLK_TIMEOUT_NS);
	cr_assert_lt(slept, BLK_TIMEOUT_NS + 3000000000ull, "gave up right after the deadline");

	unsigned submits = fk.submits;
	struct blk_request r = rw(BLK_OP_READ, 0, 512);
	cr_assert_eq(blk_submit(&dev, &r), BLK_ENODEV);
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 0, buf, 512, false), BLK_ENODEV);
	cr_assert_eq(blk_flush(&dev), BLK_ENODEV);
	cr_assert_eq(fk.submits, submits, "nothing reaches a failed device");
	cr_assert_eq(blk_register(&dev), 0);
	fk.stall = false;
	cr_assert_eq(blk_poll_all(), 0, "a failed device is not polled");
	blk_mark_failed(&dev);
	cr_assert_eq(fk.stops, 1);
}

Test(blockdev, a_flush_that_never_completes_times_out, .init = setup)
{
	fk.stall = true;
	cr_assert_eq(blk_flush(&dev), BLK_ETIMEDOUT);
	cr_assert(dev.failed);
}

Test(blockdev, a_queue_that_stays_full_times_out, .init = setup)
{
	fk.busy_left = ~0u;
	fk.stall = true;
	cr_assert_eq(blk_io(&dev, BLK_OP_READ, 0, buf, 512, false), BLK_ETIMEDOUT);
	cr_assert(dev.failed);
	cr_assert_eq(dev.stats.timeouts, 1);
}

Test(blockdev, status_names)
{
	cr_assert_str_eq(blk_status_name(BLK_OK), "ok");
	cr_assert_str_eq(blk_status_name(BLK_EIO), "I/O error");
	cr_assert_str_eq(blk_status_name(BLK_ETIMEDOUT), "timed out");
	cr_assert_str_eq(blk_status_name(BLK_ENODEV), "device out of service");
	cr_assert_str_eq(blk_status_name(42), "unknown status");
}
