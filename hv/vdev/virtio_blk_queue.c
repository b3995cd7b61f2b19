/* The split virtqueue from the device's side (virtio 1.2, 2.7): taking
 * available chains, copying their descriptors, returning used elements
 * and notifying the driver. Everything in the rings is the guest's and
 * is checked before use.
 *
 * The rings' index fields are read and written as single aligned 16-bit
 * accesses with acquire/release ordering, since another vCPU may be
 * updating the ring meanwhile (2.7.13, 2.7.7); the host is little-endian
 * (x86), as the rings are. */
#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"
#include "hv/vdev/virtio_blk_priv.h"

/* struct virtq_desc (2.7.5): le64 addr, le32 len, le16 flags, le16 next. */
#define DESC_SIZE 16
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
/* struct virtq_avail (2.7.6): le16 flags, le16 idx, le16 ring[size]. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define AVAIL_F_NO_INTERRUPT 1
/* struct virtq_used (2.7.8): le16 flags, le16 idx, {le32 id, le32 len} ring[size]. */
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM 8

static bool guest_copy(struct vblk *b, uint64_t gpa, uint8_t *buf, size_t len, bool write)
{
	if (gpa + len < gpa)
		return false; /* wraps around the address space */
	while (len) {
		void *host;
		size_t n = b->mem.map(b->mem.ctx, gpa, len, write, &host);
		if (n == 0 || n > len)
			return false;
		if (write)
			memcpy(host, buf, n);
		else
			memcpy(buf, host, n);
		gpa += n;
		buf += n;
		len -= n;
	}
	return true;
}

bool vblk_guest_read(struct vblk *b, uint64_t gpa, void *buf, size_t len)
{
	return guest_copy(b, gpa, buf, len, false);
}

bool vblk_guest_write(struct vblk *b, uint64_t gpa, const void *buf, size_t len)
{
	return guest_copy(b, gpa, (uint8_t *)buf, len, true);
}

/* A ring index or flags field: one aligned 16-bit load (never torn). */
static bool read_u16(struct vblk *b, uint64_t gpa, uint16_t *value)
{
	void *host;

	if (b->mem.map(b->mem.ctx, gpa, 2, false, &host) != 2 || ((uintptr_t)host & 1))
		return false;
	*value = __atomic_load_n((const uint16_t *)host, __ATOMIC_ACQUIRE);
	return true;
}

static bool write_u16_release(struct vblk *b, uint64_t gpa, uint16_t value)
{
	void *host;

	if (b->mem.map(b->mem.ctx, gpa, 2, true, &host) != 2 || ((uintptr_t)host & 1))
		return false;
	__atomic_store_n((uint16_t *)host, value, __ATOMIC_RELEASE);
	return true;
}

/* Copies the chain from 'head' into b->chain. Returns its length, or 0
 * for a chain the device cannot follow: an index past the queue, more
 * descriptors than the queue holds (a loop, 2.7.5.3.1) or than a request
 * may have, a table outside RAM, an indirect descriptor (the feature is
 * not offered), or a device-readable descriptor after a device-writable
 * one (2.7.4.2). */
static unsigned copy_chain(struct vblk *b, uint16_t head)
{
	unsigned n = 0;
	bool writing = false;

	for (uint16_t i = head;;) {
		uint8_t raw[DESC_SIZE];
		if (i >= b->queue_size || n >= b->queue_size || n >= VBLK_CHAIN_MAX ||
		    !vblk_guest_read(b, b->queue_desc + (uint64_t)i * DESC_SIZE, raw, DESC_SIZE))
			return 0;
		uint16_t flags = get_le16(raw + 12);
		bool write = flags & DESC_F_WRITE;
		if ((flags & DESC_F_INDIRECT) || (writing && !write))
			return 0;
		writing = write;
		b->chain[n++] = (struct vblk_desc){ get_le64(raw), get_le32(raw + 8), write };
		if (!(flags & DESC_F_NEXT))
			return n;
		i = get_le16(raw + 14);
	}
}

static uint32_t handle_chain(struct vblk *b, uint16_t head)
{
	unsigned n = copy_chain(b, head);

	if (n == 0) {
		b->stats.bad_requests++;
		return 0; /* no status byte can be trusted: a used element of length 0 */
	}
	return vblk_execute(b, n);
}

static bool put_used(struct vblk *b, uint16_t head, uint32_t len)
{
	uint8_t elem[USED_ELEM];
	uint64_t slot = b->used_idx % b->queue_size;
	uint64_t at = b->queue_device + USED_RING + slot * USED_ELEM;

	put_le32(elem, head);
	put_le32(elem + 4, len);
	return vblk_guest_write(b, at, elem, sizeof(elem));
}

static bool queue_live(const struct vblk *b)
{
	uint8_t need = VBLK_S_DRIVER_OK | VBLK_S_FEATURES_OK;

	return b->queue_enable && (b->status & need) == need &&
	       !(b->status & (VBLK_S_NEEDS_RESET | VBLK_S_FAILED));
}

/* 2.7.7.2 and 2.7.10: the used index is published after the elements,
 * the driver's flags are read after that (a full barrier between), and
 * without VIRTQ_AVAIL_F_NO_INTERRUPT the driver is interrupted. */
static void publish_used(struct vblk *b)
{
	uint16_t flags;

	if (!write_u16_release(b, b->queue_device + USED_IDX, b->used_idx)) {
		vblk_set_needs_reset(b);
		return;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!read_u16(b, b->queue_driver + AVAIL_FLAGS, &flags)) {
		vblk_set_needs_reset(b);
		return;
	}
	if (!(flags & AVAIL_F_NO_INTERRUPT))
		vblk_raise(b, VBLK_ISR_QUEUE);
}

bool vblk_pending(struct vblk *b)
{
	uint16_t avail_idx;

	return queue_live(b) &&
	       read_u16(b, b->queue_driver + AVAIL_IDX, &avail_idx) && avail_idx != b->last_avail;
}

void vblk_poll(struct vblk *b)
{
	vblk_process_queue(b);
}

void vblk_process_queue(struct vblk *b)
{
	uint16_t avail_idx, head;
	bool completed = false;
	unsigned requests = 0;
	uint64_t bytes0 = b->stats.read_bytes + b->stats.write_bytes;

	if (!queue_live(b))
		return;
	/* An index more than a queue ahead of what was taken cannot be
	 * parsed (2.7.13.3: the driver never gets that far ahead). */
	if (!read_u16(b, b->queue_driver + AVAIL_IDX, &avail_idx) ||
	    (uint16_t)(avail_idx - b->last_avail) > b->queue_size) {
		vblk_set_needs_reset(b);
		return;
	}
	while (b->last_avail != avail_idx && requests++ < VBLK_NOTIFY_REQUESTS &&
	       b->stats.read_bytes + b->stats.write_bytes - bytes0 < VBLK_NOTIFY_BYTES &&
	       (!b->backend.ready || b->backend.ready(b->backend.ctx))) {
		uint64_t slot = b->last_avail % b->queue_size;
		if (!read_u16(b, b->queue_driver + AVAIL_RING + 2 * slot, &head)) {
			vblk_set_needs_reset(b);
			break;
		}
		uint32_t len = handle_chain(b, head);
		if (!put_used(b, head, len)) {
			vblk_set_needs_reset(b);
			break;
		}
		b->last_avail++;
		b->used_idx++;
		completed = true;
	}
	if (completed)
		publish_used(b);
}
