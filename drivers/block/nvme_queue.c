/* NVMe queue-pair bookkeeping; see nvme_queue.h. The rings are shared
 * with the controller: a completion entry is copied out once and judged
 * on the copy. */
#include "drivers/block/nvme_queue.h"

#define SLOT_MASK ((1u << NVME_CID_SLOT_BITS) - 1)

_Static_assert(NVME_QUEUE_MAX_CMDS <= (1 << NVME_CID_SLOT_BITS), "slots fit the CID bits");

void nvme_queue_init(struct nvme_queue *q, uint16_t qid, void *sq, uint16_t sq_size, void *cq,
		     uint16_t cq_size, uint16_t depth)
{
	*q = (struct nvme_queue){ .qid = qid, .sq = sq, .cq = cq, .sq_size = sq_size,
				  .cq_size = cq_size, .depth = depth,
				  /* The controller posts phase 1 in the first pass over a
				   * zeroed queue (NVMe 1.4 section 4.6). */
				  .phase = 1 };
}

static int free_slot(struct nvme_queue *q)
{
	for (unsigned n = 0; n < NVME_QUEUE_MAX_CMDS; n++) {
		unsigned s = (q->next_slot + n) % NVME_QUEUE_MAX_CMDS;
		if (!q->cookie[s]) {
			q->next_slot = (uint16_t)((s + 1) % NVME_QUEUE_MAX_CMDS);
			return (int)s;
		}
	}
	return -1;
}

bool nvme_queue_submit(struct nvme_queue *q, const struct nvme_sqe *cmd, void *cookie)
{
	if (q->in_flight >= q->depth)
		return false;
	int slot = free_slot(q);
	if (slot < 0)
		return false;
	uint16_t cid = (uint16_t)(((unsigned)++q->uses << NVME_CID_SLOT_BITS) | (unsigned)slot);
	if (cid == 0xffff) /* reserved: "no command" in the error log (NVMe 1.4 5.14.1.1) */
		cid = (uint16_t)(((unsigned)++q->uses << NVME_CID_SLOT_BITS) | (unsigned)slot);
	q->cid_of[slot] = cid;
	q->cookie[slot] = cookie;
	q->in_flight++;

	struct nvme_sqe e = *cmd;
	e.cid = cid;
	q->sq[q->sq_tail] = e;
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->sq_size);
	return true;
}

/* The controller's claim, checked: this queue, an SQ head inside it, a
 * CID in flight with its current use count. */
static void *take(struct nvme_queue *q, const struct nvme_cqe *e)
{
	unsigned slot = e->cid & SLOT_MASK;

	if (e->sq_id != q->qid || e->sq_head >= q->sq_size || slot >= NVME_QUEUE_MAX_CMDS ||
	    !q->cookie[slot] || q->cid_of[slot] != e->cid)
		return NULL;
	void *cookie = q->cookie[slot];
	q->cookie[slot] = NULL;
	q->in_flight--;
	q->sq_head = e->sq_head;
	return cookie;
}

void *nvme_queue_reap(struct nvme_queue *q, uint16_t *status, uint32_t *dw0)
{
	/* One pass at most: a controller that keeps posting garbage cannot
	 * hold us here. */
	for (unsigned n = 0; n < q->cq_size; n++) {
		volatile struct nvme_cqe *slot = &q->cq[q->cq_head];
		if ((slot->status & 1) != q->phase)
			return NULL;
		__asm__ volatile("" ::: "memory"); /* the phase first, then the rest */
		struct nvme_cqe e = { .dw0 = slot->dw0, .dw1 = slot->dw1, .sq_head = slot->sq_head,
				      .sq_id = slot->sq_id, .cid = slot->cid,
				      .status = slot->status };
		if (++q->cq_head == q->cq_size) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		q->cq_head_moved = true;
		void *cookie = take(q, &e);
		if (!cookie) {
			q->bad_completions++;
			continue;
		}
		*status = (uint16_t)(e.status >> 1);
		*dw0 = e.dw0;
		return cookie;
	}
	return NULL;
}

static bool segments_page_joined(const struct nvme_data_seg *segs, unsigned nsegs)
{
	if (segs[0].addr & 3)
		return false; /* PRP1's offset must be dword aligned (4.3) */
	for (unsigned i = 0; i < nsegs; i++) {
		uint64_t end = segs[i].addr + segs[i].len;
		if ((i > 0 && segs[i].addr % NVME_PAGE_SIZE) ||
		    (i + 1 < nsegs && end % NVME_PAGE_SIZE))
			return false;
	}
	return true;
}

bool nvme_prp_build(const struct nvme_data_seg *segs, unsigned nsegs, uint64_t *list,
		    uint64_t list_addr, uint64_t *prp1, uint64_t *prp2)
{
	unsigned n = 0; /* entries after PRP1 */
	uint64_t second = 0;

	if (!segments_page_joined(segs, nsegs))
		return false;
	*prp1 = segs[0].addr;
	for (unsigned i = 0; i < nsegs; i++) {
		/* Every page start after the first byte, in order. */
		uint64_t page = i == 0 ? (segs[0].addr & ~(uint64_t)(NVME_PAGE_SIZE - 1)) +
					 NVME_PAGE_SIZE : segs[i].addr;
		for (; page < segs[i].addr + segs[i].len; page += NVME_PAGE_SIZE) {
			if (n == NVME_PRP_LIST_ENTRIES)
				return false;
			if (n == 0)
				second = page;
			list[n++] = page;
		}
	}
	*prp2 = n == 0 ? 0 : n == 1 ? second : list_addr;
	return true;
}
