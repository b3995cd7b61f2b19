/* One NVMe submission/completion queue pair from the host's side (NVMe
 * 1.4 section 4: 64-byte commands, 16-byte completions, a phase tag that
 * flips on every pass through the completion queue), with command
 * identifiers allocated here. No register access: the caller rings the
 * doorbells with sq_tail / cq_head, so this builds for the host and is
 * tested against a simulated controller.
 *
 * Never trusts the controller: a completion whose CID is not in flight
 * (unknown, completed already, or from an earlier use of the slot), whose
 * SQ identifier is not this queue's, or whose SQ head pointer is outside
 * the queue is consumed, counted in bad_completions and otherwise
 * ignored. */
#ifndef DRIVERS_BLOCK_NVME_QUEUE_H
#define DRIVERS_BLOCK_NVME_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVME_QUEUE_MAX_CMDS 64 /* commands in flight per queue, at most */
#define NVME_CID_SLOT_BITS 6   /* low CID bits: the slot; high bits: a use count */

/* Submission queue entry (NVMe 1.4 figure 105: common command format). */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;   /* FUSE, PSDT (0: PRPs) */
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

/* Completion queue entry (NVMe 1.4 figure 123). */
struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status; /* bit 0: phase tag; bits 15:1 the status field */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe SQ entries are 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe CQ entries are 16 bytes");

struct nvme_queue {
	uint16_t qid;
	volatile struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint16_t sq_size, cq_size;
	uint16_t sq_tail;       /* next slot we write; the SQ tail doorbell value */
	uint16_t sq_head;       /* as last reported by a valid completion */
	uint16_t cq_head;       /* next entry we read; the CQ head doorbell value */
	uint8_t phase;          /* the phase tag of new entries in this pass */
	bool cq_head_moved;     /* entries consumed since the last doorbell */
	uint16_t depth;         /* commands in flight, at most */
	uint16_t in_flight;
	uint16_t cid_of[NVME_QUEUE_MAX_CMDS]; /* the CID a busy slot was issued */
	void *cookie[NVME_QUEUE_MAX_CMDS];    /* NULL: slot free */
	uint16_t next_slot;
	uint16_t uses;          /* makes CIDs of a reused slot differ */
	uint64_t bad_completions;
};

/* @pre sq/cq hold sq_size/cq_size zeroed entries; 2 <= sizes;
 *      depth < min(sq_size, cq_size) and depth <= NVME_QUEUE_MAX_CMDS
 *      (then neither queue can overflow) */
void nvme_queue_init(struct nvme_queue *q, uint16_t qid, void *sq, uint16_t sq_size, void *cq,
		     uint16_t cq_size, uint16_t depth);

/* Copies the command into the SQ with a fresh CID and advances sq_tail
 * (the caller then writes it to the SQ tail doorbell). False when 'depth'
 * commands are in flight. @pre cookie != NULL */
bool nvme_queue_submit(struct nvme_queue *q, const struct nvme_sqe *cmd, void *cookie);

/* The next valid completion: its cookie, status field (bits 15:1 of the
 * status word, shifted down: 0 is success) and DW0; NULL when the
 * controller has posted nothing new. Invalid entries are consumed and
 * counted on the way. The caller writes cq_head to the CQ head doorbell
 * when cq_head_moved, then clears it. */
void *nvme_queue_reap(struct nvme_queue *q, uint16_t *status, uint32_t *dw0);

/* Data pointers (NVMe 1.4 section 4.3). The memory page size is 4 KiB
 * (CC.MPS = 0); one PRP list page holds 512 entries. */
#define NVME_PAGE_SIZE 4096u
#define NVME_PRP_LIST_ENTRIES 512

struct nvme_data_seg {
	uint64_t addr; /* bus address (= host physical) */
	uint32_t len;
};

/* Describes the segments in PRP1/PRP2: PRP1 is the first byte (any
 * dword-aligned address); a second page goes to PRP2, more pages to the
 * PRP list (at bus address list_addr), whose address PRP2 then holds.
 * PRPs describe memory as pages, so every segment but the first must
 * start on a page boundary and every one but the last end on one.
 * Returns false when the segments do not qualify (or need more than one
 * list page): the caller then copies through a bounce buffer.
 * @pre list holds NVME_PRP_LIST_ENTRIES entries; nsegs >= 1; lengths > 0 */
bool nvme_prp_build(const struct nvme_data_seg *segs, unsigned nsegs, uint64_t *list,
		    uint64_t list_addr, uint64_t *prp1, uint64_t *prp2);

/* The status field's parts (NVMe 1.4 figure 126). */
#define NVME_STATUS_SC(s) ((s) & 0xff)
#define NVME_STATUS_SCT(s) (((s) >> 8) & 0x7)

#endif
