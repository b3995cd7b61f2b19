/* The split virtqueue against a simulated device that takes chains from
 * the available ring and completes them in any order, including bogus
 * completions a broken or hostile device model could write. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/virtqueue.h"

#define QSIZE 8

static struct vq_desc desc[QSIZE];
static uint8_t avail_mem[64], used_mem[128];
static void *cookies[QSIZE];
static struct virtqueue vq;
static uint16_t dev_next_avail; /* the device's view of the avail ring */

static void setup(void)
{
	memset(desc, 0, sizeof(desc));
	memset(avail_mem, 0, sizeof(avail_mem));
	memset(used_mem, 0, sizeof(used_mem));
	dev_next_avail = 0;
	cr_assert_leq(vq_avail_bytes(QSIZE), sizeof(avail_mem));
	cr_assert_leq(vq_used_bytes(QSIZE), sizeof(used_mem));
	vq_init(&vq, QSIZE, desc, avail_mem, used_mem, cookies);
}

/* Device side: the next published chain's head, or -1. */
static int dev_take(void)
{
	if (dev_next_avail == vq.avail->idx)
		return -1;
	return vq.avail->ring[dev_next_avail++ % QSIZE];
}

static void dev_complete(uint32_t id, uint32_t len)
{
	struct vq_used_elem *e = &vq.used->ring[vq.used->idx % QSIZE];
	e->id = id;
	e->len = len;
	vq.used->idx++;
}

static bool add_one(uintptr_t cookie, int n)
{
	struct vq_buf bufs[QSIZE];
	for (int i = 0; i < n; i++)
		bufs[i] = (struct vq_buf){ .addr = 0x1000u * (cookie + 1) + (uint64_t)i,
					   .len = 100u + (uint32_t)i, .device_writes = i > 0 };
	return vq_add(&vq, bufs, n, (void *)cookie);
}

Test(virtqueue, the_device_sees_chains_in_order_with_their_flags, .init = setup)
{
	cr_assert(add_one(1, 3));
	cr_assert_eq(dev_take(), -1, "nothing is visible before publish");
	cr_assert(vq_publish(&vq));
	int head = dev_take();
	cr_assert_geq(head, 0);
	uint16_t idx = (uint16_t)head;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(desc[idx].addr, 0x2000u + (uint64_t)i);
		cr_assert_eq(desc[idx].len, 100u + (uint32_t)i);
		cr_assert_eq(!!(desc[idx].flags & VQ_DESC_F_WRITE), i > 0);
		cr_assert_eq(!!(desc[idx].flags & VQ_DESC_F_NEXT), i < 2);
		idx = desc[idx].next;
	}
	cr_assert_eq(vq.num_free, QSIZE - 3);
}

Test(virtqueue, completions_in_any_order_return_cookies_and_free_everything,
     .init = setup)
{
	int heads[4];
	for (uintptr_t c = 1; c <= 4; c++)
		cr_assert(add_one(c, 2));
	vq_publish(&vq);
	for (int i = 0; i < 4; i++)
		heads[i] = dev_take();
	dev_complete((uint32_t)heads[2], 30);
	dev_complete((uint32_t)heads[0], 10);
	dev_complete((uint32_t)heads[3], 40);
	dev_complete((uint32_t)heads[1], 20);

	uintptr_t want[] = { 3, 1, 4, 2 };
	uint64_t bad = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t len = 0;
		void *c = vq_reap(&vq, &len, &bad);
		cr_assert_eq((uintptr_t)c, want[i]);
		cr_assert_eq(len, want[i] * 10);
	}
	uint32_t len;
	cr_assert_null(vq_reap(&vq, &len, &bad));
	cr_assert_eq(bad, 0);
	cr_assert_eq(vq.num_free, QSIZE);
}

Test(virtqueue, a_full_ring_refuses_and_changes_nothing, .init = setup)
{
	cr_assert(add_one(1, 5));
	cr_assert_not(add_one(2, 4));
	cr_assert_eq(vq.num_free, 3);
	cr_assert(add_one(3, 3));
	cr_assert_not(add_one(4, 1));
	cr_assert_not(add_one(5, 0), "an empty chain is refused");
	vq_publish(&vq);
	cr_assert_geq(dev_take(), 0);
	cr_assert_geq(dev_take(), 0);
	cr_assert_eq(dev_take(), -1);
}

Test(virtqueue, bogus_completions_are_counted_and_skipped, .init = setup)
{
	cr_assert(add_one(7, 2));
	vq_publish(&vq);
	int head = dev_take();
	dev_complete(QSIZE + 3, 1);          /* id out of range */
	dev_complete((uint32_t)head ^ 1, 1); /* a descriptor not at a chain head */
	dev_complete((uint32_t)head, 64);
	dev_complete((uint32_t)head, 64);    /* completed twice */

	uint64_t bad = 0;
	uint32_t len = 0;
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 7);
	cr_assert_eq(len, 64);
	cr_assert_null(vq_reap(&vq, &len, &bad));
	cr_assert_eq(bad, 3);
	cr_assert_eq(vq.num_free, QSIZE, "the double completion freed nothing twice");
}

Test(virtqueue, publish_reports_whether_the_device_wants_a_kick, .init = setup)
{
	cr_assert_not(vq_publish(&vq), "nothing added: no kick");
	cr_assert(add_one(1, 1));
	cr_assert(vq_publish(&vq));
	cr_assert_not(vq_publish(&vq));
	vq.used->flags = VQ_USED_F_NO_NOTIFY;
	cr_assert(add_one(2, 1));
	cr_assert_not(vq_publish(&vq), "the device suppressed notifications");
	cr_assert_eq(dev_take() >= 0 && dev_take() >= 0, true, "both chains are still published");
}

/* The device's side of one chain: the cookie the driver gave it is
 * recovered from the head descriptor's address (add_one encodes it there),
 * so a completion names the chain it means. */
static uintptr_t dev_cookie_of(int head)
{
	return (uintptr_t)(desc[head].addr / 0x1000u) - 1;
}

/* The completion length the device reports for a chain: derived from the
 * cookie, so the reaped (cookie, len) pair shows the two were not mixed up. */
static uint32_t dev_len_for(uintptr_t cookie)
{
	return (uint32_t)(cookie * 2654435761u) | 1u;
}

/* 70,000+ chains through an 8-entry ring: both 16-bit indexes wrap (more
 * than twice), and at every step they equal the counts mod 2^16. The device
 * completes chains in random order; each reap must return the cookie of
 * the oldest completion not yet reaped, with its length. */
Test(virtqueue, indexes_wrap_over_many_rounds, .init = setup)
{
	enum { CHAINS = 140000 };
	uintptr_t done_fifo[QSIZE]; /* completed, not yet reaped: device order */
	unsigned done_head = 0, done_tail = 0;
	int pending[QSIZE], npending = 0;
	uint64_t bad = 0, added = 0, completed = 0, reaped = 0;
	bool avail_wrapped = false, used_wrapped = false;

	srand(11);
	while (reaped < CHAINS) {
		if (added < CHAINS && add_one(added + 1, 1 + rand() % 3)) {
			added++;
			vq_publish(&vq);
		}
		cr_assert_eq(vq.avail->idx, (uint16_t)added, "avail idx %u after %lu chains",
			     vq.avail->idx, (unsigned long)added);
		int h;
		while ((h = dev_take()) >= 0)
			pending[npending++] = h;
		/* Complete one at random (sometimes none, so chains pile up). */
		if (npending && (rand() % 3 || added == CHAINS)) {
			int k = rand() % npending;
			uintptr_t cookie = dev_cookie_of(pending[k]);
			dev_complete((uint32_t)pending[k], dev_len_for(cookie));
			done_fifo[done_head++ % QSIZE] = cookie;
			completed++;
			pending[k] = pending[--npending];
		}
		cr_assert_eq(vq.used->idx, (uint16_t)completed);
		avail_wrapped |= added > 65536 && vq.avail->idx < 1000;
		used_wrapped |= completed > 65536 && vq.used->idx < 1000;

		uint32_t len;
		void *c;
		while ((c = vq_reap(&vq, &len, &bad))) {
			cr_assert_neq(done_tail, done_head, "reaped a chain nobody completed");
			uintptr_t want = done_fifo[done_tail++ % QSIZE];
			cr_assert_eq((uintptr_t)c, want, "reap %lu: cookie %lu, expected %lu",
				     (unsigned long)reaped, (unsigned long)(uintptr_t)c,
				     (unsigned long)want);
			cr_assert_eq(len, dev_len_for(want), "reap %lu: wrong length",
				     (unsigned long)reaped);
			reaped++;
		}
		cr_assert_eq(done_tail, done_head, "a completion was not reaped");
	}
	cr_assert_eq(added, CHAINS);
	cr_assert_eq(completed, CHAINS);
	cr_assert_eq(bad, 0);
	cr_assert(avail_wrapped && used_wrapped, "both indexes passed 65535 and wrapped");
	cr_assert_eq(vq.avail->idx, 8928, "140000 mod 2^16, got %u", vq.avail->idx);
	cr_assert_eq(vq.used->idx, 8928);
	cr_assert_eq(vq.last_used, 8928);
	cr_assert_eq(vq.num_free, QSIZE, "every descriptor came back");
}

/* The descriptor table is shared memory: a device may scribble on it. The
 * driver's bookkeeping must not follow what it finds there. */

/* The device re-links an in-flight chain into another one: reaping the
 * first must free exactly its own descriptors, not the other chain's. */
Test(virtqueue, a_chain_relinked_by_the_device_frees_only_its_own_descriptors, .init = setup)
{
	cr_assert(add_one(1, 2));
	cr_assert(add_one(2, 3));
	vq_publish(&vq);
	int a = dev_take(), b = dev_take();
	uint16_t a_last = desc[a].next;
	desc[a_last].flags |= VQ_DESC_F_NEXT; /* chain a now runs on into b */
	desc[a_last].next = (uint16_t)b;
	dev_complete((uint32_t)a, 1);

	uint64_t bad = 0;
	uint32_t len;
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 1);
	cr_assert_eq(vq.num_free, QSIZE - 3, "chain b's 3 descriptors stay in flight");
	dev_complete((uint32_t)b, 2);
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 2);
	cr_assert_eq(vq.num_free, QSIZE);
	cr_assert_eq(bad, 0);
}

/* The device cuts a chain short (clears NEXT) or points it out of the
 * table: the driver still frees the chain it added, and nothing else. */
Test(virtqueue, a_chain_cut_or_sent_out_of_range_still_frees_what_was_added, .init = setup)
{
	cr_assert(add_one(1, 3));
	cr_assert(add_one(2, 3));
	vq_publish(&vq);
	int a = dev_take(), b = dev_take();
	desc[a].flags &= (uint16_t)~VQ_DESC_F_NEXT;
	desc[b].next = 0xfff0; /* far outside an 8-entry table */
	desc[desc[a].next].next = 0xfff0;
	dev_complete((uint32_t)a, 1);
	dev_complete((uint32_t)b, 1);

	uint64_t bad = 0;
	uint32_t len;
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 1);
	cr_assert_eq(vq.num_free, QSIZE - 3);
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 2);
	cr_assert_eq(vq.num_free, QSIZE);
	cr_assert_eq(bad, 0);
}

/* Collects the descriptors of the chain at 'head' as the device sees it
 * (links as the driver wrote them at add time); returns how many. */
static int dev_chain(int head, bool used[QSIZE])
{
	int n = 0;
	for (uint16_t idx = (uint16_t)head;; idx = desc[idx].next) {
		cr_assert_lt(idx, QSIZE, "the driver linked descriptor %u", idx);
		cr_assert_not(used[idx], "descriptor %u is in two chains", idx);
		used[idx] = true;
		n++;
		if (!(desc[idx].flags & VQ_DESC_F_NEXT))
			return n;
	}
}

/* After the device overwrote every link of the free descriptors (a
 * cycle through one of them), new chains still use distinct descriptors. */
Test(virtqueue, scribbled_free_descriptor_links_are_not_used_for_allocation, .init = setup)
{
	cr_assert(add_one(1, 4));
	vq_publish(&vq);
	dev_complete((uint32_t)dev_take(), 1);
	uint64_t bad = 0;
	uint32_t len;
	cr_assert_eq((uintptr_t)vq_reap(&vq, &len, &bad), 1);
	for (int i = 0; i < QSIZE; i++)
		desc[i].next = 5;

	cr_assert(add_one(2, 3));
	cr_assert(add_one(3, 3));
	cr_assert(add_one(4, 2));
	cr_assert_not(add_one(5, 1), "all 8 descriptors are in use");
	vq_publish(&vq);
	bool used[QSIZE] = { false };
	int total = 0;
	for (int h; (h = dev_take()) >= 0;)
		total += dev_chain(h, used);
	cr_assert_eq(total, QSIZE);
}

/* A device's queue_notify_off is checked against its notify structure
 * before the driver writes there (virtio 1.x 4.1.4.4). */
Test(virtqueue, notify_address_stays_in_the_window)
{
	cr_assert(vq_notify_in_window(0x1000, 0, 4));
	cr_assert(vq_notify_in_window(0x1000, 0x3ff, 4), "the last 16-bit slot");
	cr_assert_not(vq_notify_in_window(0x1000, 0x400, 4), "past the end");
	cr_assert_not(vq_notify_in_window(2, 0xffff, 0xffffffffu), "no wrap-around");
	cr_assert(vq_notify_in_window(2, 7, 0), "multiplier 0: every queue at offset 0");
	cr_assert_not(vq_notify_in_window(0, 0, 0), "an empty structure");
}
