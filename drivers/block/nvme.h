/* The NVMe driver's private state, shared by controller bring-up
 * (nvme.c) and the I/O path (nvme_io.c). One I/O queue pair per
 * controller, polled (interrupts disabled), shared by its namespaces. */
#ifndef DRIVERS_BLOCK_NVME_H
#define DRIVERS_BLOCK_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/block/blockdev.h"
#include "drivers/block/nvme_queue.h"

#define NVME_MAX_NAMESPACES 4
#define NVME_MAX_NSID_SCAN 1024 /* namespace IDs asked about at most */
#define NVME_IO_QUEUE_ENTRIES 64
#define NVME_IO_DEPTH 32
#define NVME_MAX_TRANSFER (128u * 1024)

struct pci_device;
struct nvme_ctrl;

struct nvme_ns {
	struct blockdev dev;
	struct nvme_ctrl *ctrl;
	uint32_t nsid;
};

/* A command in flight on the I/O queue. */
struct nvme_slot {
	struct blk_request *req;
	struct nvme_ns *ns;
	uint64_t *prp_list;    /* one page, this slot's */
	bool busy;
	bool bounced;          /* the data went through ctrl->bounce */
};

struct nvme_ctrl {
	struct pci_device *pci;
	volatile uint8_t *regs;
	uint64_t cap;
	uint32_t doorbell_stride;
	uint64_t ready_timeout_ns;
	unsigned instance;
	struct nvme_queue admin, io;
	uint8_t *identify;     /* a page for Identify data */
	uint8_t *bounce;       /* max_transfer bytes, for segments PRPs cannot describe */
	bool bounce_busy;
	bool vwc;              /* volatile write cache present */
	bool stopped;
	bool admin_dead;        /* an admin command timed out: no more are sent */
	uint32_t max_transfer;
	uint64_t bad_seen;     /* io.bad_completions already counted in a device's stats */
	struct nvme_slot slots[NVME_IO_DEPTH];
	struct nvme_ns ns[NVME_MAX_NAMESPACES];
	unsigned nns;
};

extern const struct blk_ops nvme_blk_ops;

/* Register access and doorbells (nvme.c). */
uint32_t nvme_read32(const struct nvme_ctrl *c, unsigned off);
void nvme_write32(struct nvme_ctrl *c, unsigned off, uint32_t v);
void nvme_ring_sq(struct nvme_ctrl *c, const struct nvme_queue *q);
void nvme_ring_cq(struct nvme_ctrl *c, struct nvme_queue *q);
/* Clears CC.EN: the controller stops all DMA (3.1.5; 7.6.2). */
void nvme_disable(struct nvme_ctrl *c);

#endif
