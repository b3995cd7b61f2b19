/* A split virtqueue (virtio 1.x, section 2.6) from the driver's side:
 * descriptor free list, publishing chains in the available ring, reaping
 * the used ring. No device access here, so it builds for the host and is
 * unit tested against a simulated device. */
#ifndef DRIVERS_VIRTIO_VIRTQUEUE_H
#define DRIVERS_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_USED_F_NO_NOTIFY 1
#define VQ_AVAIL_F_NO_INTERRUPT 1

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq_used {
	uint16_t flags;
	uint16_t idx;
	struct vq_used_elem ring[];
};

/* A buffer in a chain: device-readable (out) or device-writable (in). */
struct vq_buf {
	uint64_t addr;
	uint32_t len;
	bool device_writes;
};

/* Largest ring the driver keeps private state for (QEMU offers 256 by
 * default, 1024 at most). */
#define VQ_MAX_SIZE 1024

struct virtqueue {
	uint16_t size; /* power of two, <= VQ_MAX_SIZE */
	struct vq_desc *desc;
	struct vq_avail *avail;
	struct vq_used *used;
	void **cookies;      /* per head descriptor */
	uint16_t free_head;
	uint16_t num_free;
	uint16_t last_used;  /* next used entry to reap */
	uint16_t avail_shadow; /* avail->idx as the driver will publish it */
	uint16_t published;    /* avail->idx at the last notify decision */
	/* Driver-private chain links and per-head chain lengths: the free list
	 * and the chains are walked here, never through desc[].next, which
	 * lies in memory the device can write (virtio 1.x 2.6.5: the device
	 * must not, but we do not trust it to obey). */
	uint16_t next[VQ_MAX_SIZE];
	uint16_t chain_len[VQ_MAX_SIZE]; /* at a head in flight; 0 elsewhere */
};

/* Bytes each ring needs for 'size' entries. */
size_t vq_desc_bytes(uint16_t size);
size_t vq_avail_bytes(uint16_t size);
size_t vq_used_bytes(uint16_t size);
/* Whether a queue's notify address, notify_off * multiplier into the
 * notify structure of 'window' bytes, leaves room for the 16-bit write
 * (virtio 1.x 4.1.4.4): the device says where, the driver checks. */
bool vq_notify_in_window(uint32_t window, uint16_t notify_off, uint32_t multiplier);

/* @pre size is a power of two <= VQ_MAX_SIZE; the memory is zeroed. */
void vq_init(struct virtqueue *vq, uint16_t size, void *desc, void *avail, void *used,
	     void **cookies);

/* Adds a chain (in 'bufs' order) for the device; returns false (and adds
 * nothing) when there are not enough free descriptors. Not visible to the
 * device until vq_publish. @pre cookie != NULL, n >= 1 */
bool vq_add(struct virtqueue *vq, const struct vq_buf *bufs, int n, void *cookie);

/* Makes added chains visible; returns true if the device wants a
 * notification (it has not suppressed them). */
bool vq_publish(struct virtqueue *vq);

/* The next chain the device finished: its cookie and the bytes it wrote;
 * NULL when none. Frees the chain's descriptors (as many as were added,
 * found through the driver's own links). A used entry naming a descriptor
 * that is not the head of a chain in flight is skipped and counted in *bad. */
void *vq_reap(struct virtqueue *vq, uint32_t *len, uint64_t *bad);

#endif
