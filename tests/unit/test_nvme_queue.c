/* The NVMe queue pair against a simulated controller that fetches
 * commands from the SQ and posts completions with the phase tag, in any
 * order, including entries a broken or hostile controller could post. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/block/nvme_queue.h"

#define SQ_SIZE 8
#define CQ_SIZE 4
#define QID 3

static struct nvme_sqe sq[SQ_SIZE];
static struct nvme_cqe cq[CQ_SIZE];
static struct nvme_queue q;
/* The controller's state. */
static uint16_t ctl_sq_head, ctl_cq_tail;
static uint8_t ctl_phase;

static void setup(void)
{
	memset(sq, 0, sizeof(sq));
	memset(cq, 0, sizeof(cq));
	ctl_sq_head = ctl_cq_tail = 0;
	ctl_phase = 1;
	nvme_queue_init(&q, QID, sq, SQ_SIZE, cq, CQ_SIZE, 3);
}

/* Fetches the next command; false when the SQ is empty. */
static bool ctl_fetch(struct nvme_sqe *out)
{
	if (ctl_sq_head == q.sq_tail)
		return false;
	*out = sq[ctl_sq_head];
	ctl_sq_head = (ctl_sq_head + 1) % SQ_SIZE;
	return true;
}

static void ctl_post_raw(uint16_t cid, uint16_t sq_id, uint16_t sq_head, uint16_t status)
{
	cq[ctl_cq_tail] = (struct nvme_cqe){ .dw0 = 0x1000u + cid, .sq_head = sq_head,
					     .sq_id = sq_id, .cid = cid,
					     .status = (uint16_t)(status << 1 | ctl_phase) };
	if (++ctl_cq_tail == CQ_SIZE) {
		ctl_cq_tail = 0;
		ctl_phase ^= 1;
	}
}

static void ctl_post(uint16_t cid, uint16_t status)
{
	ctl_post_raw(cid, QID, ctl_sq_head, status);
}

static struct nvme_sqe cmd(uint8_t opcode, uint32_t cdw10)
{
	return (struct nvme_sqe){ .opcode = opcode, .nsid = 1, .cdw10 = cdw10 };
}

Test(nvme_queue, commands_get_distinct_cids_and_land_in_the_sq, .init = setup)
{
	struct nvme_sqe c = cmd(0x02, 77);
	cr_assert(nvme_queue_submit(&q, &c, (void *)1));
	cr_assert(nvme_queue_submit(&q, &c, (void *)2));
	cr_assert(nvme_queue_submit(&q, &c, (void *)3));
	cr_assert_not(nvme_queue_submit(&q, &c, (void *)4), "depth 3 reached");
	cr_assert_eq(q.sq_tail, 3);
	cr_assert_eq(q.in_flight, 3);
	struct nvme_sqe a, b;
	cr_assert(ctl_fetch(&a));
	cr_assert(ctl_fetch(&b));
	cr_assert_eq(a.opcode, 0x02);
	cr_assert_eq(a.cdw10, 77);
	cr_assert_neq(a.cid, b.cid);
	cr_assert_eq(c.cid, 0, "the caller's command is not changed");
}

Test(nvme_queue, nothing_is_reaped_until_the_phase_tag_says_so, .init = setup)
{
	struct nvme_sqe c = cmd(0x01, 0), f;
	uint16_t status;
	uint32_t dw0;
	cr_assert(nvme_queue_submit(&q, &c, (void *)9));
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert(ctl_fetch(&f));
	cq[0] = (struct nvme_cqe){ .sq_id = QID, .cid = f.cid, .status = 0 }; /* phase 0: stale */
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert_not(q.cq_head_moved);
	ctl_post(f.cid, 0x0281); /* SCT 2 (media error), SC 0x81 */
	cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), 9);
	cr_assert_eq(NVME_STATUS_SCT(status), 2);
	cr_assert_eq(NVME_STATUS_SC(status), 0x81);
	cr_assert_eq(dw0, 0x1000u + f.cid);
	cr_assert(q.cq_head_moved);
	cr_assert_eq(q.cq_head, 1);
	cr_assert_eq(q.in_flight, 0);
	cr_assert_eq(q.sq_head, 1);
}

/* Hundreds of commands through a 4-entry CQ: the phase flips on every
 * wrap; completions come in random order among those in flight. */
Test(nvme_queue, the_phase_wraps_with_the_completion_queue, .init = setup)
{
	uint16_t pending[3];
	uintptr_t pending_cookie[3];
	int npending = 0;
	uintptr_t next = 1, reaped = 0;
	srand(5);
	while (reaped < 500) {
		struct nvme_sqe c = cmd(0x02, (uint32_t)next), f;
		if (next <= 500 && nvme_queue_submit(&q, &c, (void *)next))
			next++;
		while (ctl_fetch(&f)) {
			pending[npending] = f.cid;
			pending_cookie[npending++] = f.cdw10;
		}
		if (!npending)
			continue;
		int k = rand() % npending;
		ctl_post(pending[k], 0);
		uintptr_t want = pending_cookie[k];
		pending[k] = pending[--npending];
		pending_cookie[k] = pending_cookie[npending];
		uint16_t status;
		uint32_t dw0;
		cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), want);
		cr_assert_eq(status, 0);
		cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
		reaped++;
	}
	cr_assert_eq(q.bad_completions, 0);
	cr_assert_eq(q.cq_head, 500 % CQ_SIZE);
	cr_assert_eq(q.phase, (500 / CQ_SIZE) % 2 ? 0 : 1);
	cr_assert_eq(q.in_flight, 0);
}

Test(nvme_queue, bad_completions_are_counted_and_not_followed, .init = setup)
{
	struct nvme_sqe c = cmd(0x02, 0), f1, f2;
	uint16_t status;
	uint32_t dw0;
	cr_assert(nvme_queue_submit(&q, &c, (void *)1));
	cr_assert(nvme_queue_submit(&q, &c, (void *)2));
	cr_assert(ctl_fetch(&f1) && ctl_fetch(&f2));
	ctl_post((uint16_t)(f1.cid ^ 0x7), 0);              /* a CID never issued */
	ctl_post_raw(f1.cid, QID + 1, ctl_sq_head, 0);     /* another queue's */
	ctl_post_raw(f1.cid, QID, SQ_SIZE, 0);             /* SQ head out of range */
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert_eq(q.bad_completions, 3);
	cr_assert_eq(q.in_flight, 2, "nothing was completed");
	cr_assert_eq(q.sq_head, 0, "the bogus head was not taken");
	ctl_post(f1.cid, 0);
	cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), 1);
	ctl_post(f1.cid, 0); /* completed twice */
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert_eq(q.bad_completions, 4);

}

/* Every slot used once, then slot 0 again: a late completion carrying the
 * slot's first CID is stale and must not complete the new command. */
Test(nvme_queue, a_stale_cid_of_a_reused_slot_is_refused, .init = setup)
{
	nvme_queue_init(&q, QID, sq, SQ_SIZE, cq, CQ_SIZE, 1);
	struct nvme_sqe c = cmd(0x02, 0), f;
	uint16_t status, first = 0;
	uint32_t dw0;
	for (int i = 0; i <= NVME_QUEUE_MAX_CMDS; i++) {
		cr_assert(nvme_queue_submit(&q, &c, (void *)(uintptr_t)(i + 1)));
		cr_assert(ctl_fetch(&f));
		if (i == 0)
			first = f.cid;
		if (i == NVME_QUEUE_MAX_CMDS)
			break;
		ctl_post(f.cid, 0);
		cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), (uintptr_t)i + 1);
	}
	cr_assert_eq(f.cid & 63, first & 63, "the same slot");
	ctl_post(first, 0);
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert_eq(q.bad_completions, 1);
	ctl_post(f.cid, 0);
	cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), NVME_QUEUE_MAX_CMDS + 1);
}

Test(nvme_queue, a_reused_slot_gets_a_different_cid, .init = setup)
{
	nvme_queue_init(&q, QID, sq, SQ_SIZE, cq, CQ_SIZE, 1);
	struct nvme_sqe c = cmd(0x02, 0), f;
	uint16_t status, seen[200];
	uint32_t dw0;
	for (int i = 0; i < 200; i++) {
		cr_assert(nvme_queue_submit(&q, &c, (void *)1));
		cr_assert(ctl_fetch(&f));
		cr_assert_neq(f.cid, 0xffff, "FFFFh is never used");
		seen[i] = f.cid;
		for (int j = 0; j < i; j++)
			cr_assert_neq(seen[j], f.cid, "use %d repeats the CID of use %d", i, j);
		ctl_post(f.cid, 0);
		cr_assert_eq((uintptr_t)nvme_queue_reap(&q, &status, &dw0), 1);
	}
}

Test(nvme_queue, a_flood_of_garbage_ends_after_one_pass, .init = setup)
{
	uint16_t status;
	uint32_t dw0;
	/* Every entry valid-looking in the current phase, none in flight;
	 * after a full pass the phase expected flips, so the scan stops. */
	for (int i = 0; i < CQ_SIZE; i++)
		cq[i] = (struct nvme_cqe){ .sq_id = QID, .cid = 5, .status = 1 };
	cr_assert_null(nvme_queue_reap(&q, &status, &dw0));
	cr_assert_eq(q.bad_completions, CQ_SIZE);
	cr_assert_eq(q.phase, 0);
}

static uint64_t list[NVME_PRP_LIST_ENTRIES];

Test(nvme_prp, one_two_and_many_pages)
{
	uint64_t p1, p2;
	struct nvme_data_seg one = { 0x10000 + 0x200, 0x800 };
	cr_assert(nvme_prp_build(&one, 1, list, 0x9000, &p1, &p2));
	cr_assert_eq(p1, 0x10200);
	cr_assert_eq(p2, 0, "inside one page");

	struct nvme_data_seg two = { 0x10000 + 0xe00, 0x400 };
	cr_assert(nvme_prp_build(&two, 1, list, 0x9000, &p1, &p2));
	cr_assert_eq(p1, 0x10e00);
	cr_assert_eq(p2, 0x11000, "the second page itself");

	struct nvme_data_seg many = { 0x20000 + 0x100, 4 * 4096 };
	cr_assert(nvme_prp_build(&many, 1, list, 0x9000, &p1, &p2));
	cr_assert_eq(p1, 0x20100);
	cr_assert_eq(p2, 0x9000, "a list for five pages");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(list[i], 0x21000u + 0x1000u * (unsigned)i);
}

Test(nvme_prp, page_joined_segments_and_refusals)
{
	uint64_t p1, p2;
	struct nvme_data_seg segs[3] = { { 0x30800, 0x800 }, { 0x50000, 0x2000 },
					 { 0x70000, 0x10 } };
	cr_assert(nvme_prp_build(segs, 3, list, 0x9000, &p1, &p2));
	cr_assert_eq(p1, 0x30800);
	cr_assert_eq(p2, 0x9000);
	cr_assert_eq(list[0], 0x50000);
	cr_assert_eq(list[1], 0x51000);
	cr_assert_eq(list[2], 0x70000);

	segs[1].addr = 0x50200; /* a middle segment off a page boundary */
	cr_assert_not(nvme_prp_build(segs, 3, list, 0x9000, &p1, &p2));
	segs[1].addr = 0x50000;
	segs[0].len = 0x700; /* the first ends inside a page */
	cr_assert_not(nvme_prp_build(segs, 3, list, 0x9000, &p1, &p2));
	struct nvme_data_seg odd = { 0x40002, 512 };
	cr_assert_not(nvme_prp_build(&odd, 1, list, 0x9000, &p1, &p2), "not dword aligned");
	struct nvme_data_seg huge = { 0x100000, (NVME_PRP_LIST_ENTRIES + 1) * 4096 };
	cr_assert(nvme_prp_build(&huge, 1, list, 0x9000, &p1, &p2), "513 pages: 1 + 512 listed");
	huge.len += 4096;
	cr_assert_not(nvme_prp_build(&huge, 1, list, 0x9000, &p1, &p2), "one list page only");
}
