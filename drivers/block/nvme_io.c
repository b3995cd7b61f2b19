/* The NVMe I/O path: Read, Write (FUA when asked) and Flush on the
 * controller's one I/O queue pair, data described by PRPs, or copied
 * through the controller's bounce buffer when the segments are not
 * page-joined (NVMe 1.4 section 4.3). Completions come from polling; the
 * queue logic (nvme_queue.c) refuses and counts the bad ones. */
#include "drivers/block/nvme.h"
#include "drivers/block/nvme_regs.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

static struct nvme_slot *free_slot(struct nvme_ctrl *c)
{
	for (unsigned i = 0; i < c->io.depth && i < NVME_IO_DEPTH; i++)
		if (!c->slots[i].busy)
			return &c->slots[i];
	return NULL;
}

static uint32_t request_bytes(const struct blk_request *req)
{
	uint32_t total = 0;

	for (uint32_t i = 0; i < req->nsegs; i++)
		total += req->segs[i].len;
	return total;
}

/* Gathers the write data into the bounce buffer (reads scatter on
 * completion). False when another request holds it. */
static bool bounce(struct nvme_ctrl *c, struct nvme_slot *s, uint32_t bytes,
		   struct nvme_data_seg *seg)
{
	const struct blk_request *req = s->req;

	if (c->bounce_busy || bytes > c->max_transfer)
		return false;
	c->bounce_busy = true;
	s->bounced = true;
	if (req->op == BLK_OP_WRITE) {
		uint8_t *p = c->bounce;
		for (uint32_t i = 0; i < req->nsegs; p += req->segs[i].len, i++)
			memcpy(p, req->segs[i].data, req->segs[i].len);
	}
	*seg = (struct nvme_data_seg){ virt_to_phys(c->bounce), bytes };
	return true;
}

static void unbounce(struct nvme_ctrl *c, struct nvme_slot *s, bool ok)
{
	const struct blk_request *req = s->req;

	if (!s->bounced)
		return;
	if (ok && req->op == BLK_OP_READ) {
		const uint8_t *p = c->bounce;
		for (uint32_t i = 0; i < req->nsegs; p += req->segs[i].len, i++)
			memcpy(req->segs[i].data, p, req->segs[i].len);
	}
	s->bounced = false;
	c->bounce_busy = false;
}

/* Fills the data pointers of a Read/Write; BLK_EBUSY when the bounce
 * buffer is needed and taken. */
static int map_data(struct nvme_ctrl *c, struct nvme_slot *s, struct nvme_sqe *cmd,
		    uint32_t bytes)
{
	const struct blk_request *req = s->req;
	struct nvme_data_seg segs[BLK_MAX_SEGS];
	uint64_t list_pa = virt_to_phys(s->prp_list);

	for (uint32_t i = 0; i < req->nsegs; i++)
		segs[i] = (struct nvme_data_seg){ virt_to_phys(req->segs[i].data),
						  req->segs[i].len };
	if (nvme_prp_build(segs, req->nsegs, s->prp_list, list_pa, &cmd->prp1, &cmd->prp2))
		return BLK_OK;
	if (!bounce(c, s, bytes, &segs[0]))
		return BLK_EBUSY;
	nvme_prp_build(segs, 1, s->prp_list, list_pa, &cmd->prp1, &cmd->prp2);
	return BLK_OK;
}

static int nvme_submit(struct blockdev *dev, struct blk_request *req)
{
	struct nvme_ns *ns = dev->priv;
	struct nvme_ctrl *c = ns->ctrl;

	if (req->op == BLK_OP_FLUSH && !c->vwc) {
		blk_complete(dev, req, BLK_OK); /* no volatile cache: nothing to flush */
		return BLK_OK;
	}
	struct nvme_slot *s = free_slot(c);
	if (!s)
		return BLK_EBUSY;
	*s = (struct nvme_slot){ .req = req, .ns = ns, .prp_list = s->prp_list };
	struct nvme_sqe cmd = { .nsid = ns->nsid };
	if (req->op == BLK_OP_FLUSH) {
		cmd.opcode = NVME_CMD_FLUSH;
	} else {
		uint32_t bytes = request_bytes(req);
		cmd.opcode = req->op == BLK_OP_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
		cmd.cdw10 = (uint32_t)req->lba;
		cmd.cdw11 = (uint32_t)(req->lba >> 32);
		/* NLB is 0-based; max_transfer keeps it within 16 bits. */
		cmd.cdw12 = bytes / dev->block_size - 1;
		if (req->op == BLK_OP_WRITE && req->fua)
			cmd.cdw12 |= NVME_RW_FUA;
		int rc = map_data(c, s, &cmd, bytes);
		if (rc != BLK_OK)
			return rc;
	}
	if (!nvme_queue_submit(&c->io, &cmd, s)) {
		unbounce(c, s, false);
		return BLK_EBUSY;
	}
	s->busy = true;
	nvme_ring_sq(c, &c->io);
	return BLK_OK;
}

static int nvme_poll(struct blockdev *dev)
{
	struct nvme_ns *ns = dev->priv;
	struct nvme_ctrl *c = ns->ctrl;
	struct nvme_slot *s;
	uint16_t status;
	uint32_t dw0;
	int n = 0;

	if (c->stopped)
		return 0;
	/* Completions of every namespace arrive here: each goes to its own. */
	while ((s = nvme_queue_reap(&c->io, &status, &dw0))) {
		struct blk_request *req = s->req;
		unbounce(c, s, !status);
		s->busy = false;
		blk_complete(&s->ns->dev, req, status ? BLK_EIO : BLK_OK);
		n++;
	}
	nvme_ring_cq(c, &c->io);
	dev->stats.bad_completions += c->io.bad_completions - c->bad_seen;
	c->bad_seen = c->io.bad_completions;
	return n;
}

/* A request timed out: the controller stops (CC.EN = 0 ends all DMA) and
 * every namespace on it goes out of service with it. */
static void nvme_stop(struct blockdev *dev)
{
	struct nvme_ns *ns = dev->priv;
	struct nvme_ctrl *c = ns->ctrl;

	if (c->stopped)
		return;
	c->stopped = true;
	nvme_disable(c);
	for (unsigned i = 0; i < c->nns; i++)
		blk_mark_failed(&c->ns[i].dev);
}

const struct blk_ops nvme_blk_ops = { .submit = nvme_submit, .poll = nvme_poll,
				      .stop = nvme_stop };
