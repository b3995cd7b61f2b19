/* Split virtqueue bookkeeping; see virtqueue.h. The ring memory is shared
 * with the device: indexes are read once into locals and validated, the
 * free list and chain links live in driver-private arrays (never read back
 * from desc[]), and the compiler barrier orders our writes (x86 keeps
 * stores in order). */
#include "drivers/virtio/virtqueue.h"

#define vq_barrier() __asm__ volatile("" ::: "memory")

size_t vq_desc_bytes(uint16_t size)
{
	return (size_t)size * sizeof(struct vq_desc);
}

size_t vq_avail_bytes(uint16_t size)
{
	return sizeof(struct vq_avail) + (size_t)size * sizeof(uint16_t) + sizeof(uint16_t);
}

bool vq_notify_in_window(uint32_t window, uint16_t notify_off, uint32_t multiplier)
{
	return (uint64_t)notify_off * multiplier + 2 <= window;
}

size_t vq_used_bytes(uint16_t size)
{
	return sizeof(struct vq_used) + (size_t)size * sizeof(struct vq_used_elem) +
	       sizeof(uint16_t);
}

void vq_init(struct virtqueue *vq, uint16_t size, void *desc, void *avail, void *used,
	     void **cookies)
{
	*vq = (struct virtqueue){ .size = size, .desc = desc, .avail = avail, .used = used,
				  .cookies = cookies, .num_free = size };
	for (uint16_t i = 0; i < size; i++) {
		vq->next[i] = (uint16_t)(i + 1);
		cookies[i] = NULL;
	}
}

bool vq_add(struct virtqueue *vq, const struct vq_buf *bufs, int n, void *cookie)
{
	if (n < 1 || n > vq->num_free)
		return false;
	uint16_t head = vq->free_head, idx = head;
	for (int i = 0; i < n; i++) {
		struct vq_desc *d = &vq->desc[idx];
		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].device_writes ? VQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VQ_DESC_F_NEXT : 0));
		/* The device reads the link; we keep our own copy. */
		d->next = vq->next[idx];
		if (i + 1 < n)
			idx = vq->next[idx];
	}
	vq->free_head = vq->next[idx];
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->cookies[head] = cookie;
	vq->chain_len[head] = (uint16_t)n;
	vq->avail->ring[vq->avail_shadow & (vq->size - 1)] = head;
	vq->avail_shadow++;
	return true;
}

bool vq_publish(struct virtqueue *vq)
{
	vq_barrier();
	vq->avail->idx = vq->avail_shadow;
	/* The device must see the new index before we read its flags. */
	__sync_synchronize();
	bool added = vq->published != vq->avail_shadow;
	vq->published = vq->avail_shadow;
	return added && !(*(volatile uint16_t *)&vq->used->flags & VQ_USED_F_NO_NOTIFY);
}

void *vq_reap(struct virtqueue *vq, uint32_t *len, uint64_t *bad)
{
	for (;;) {
		uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx;
		if (used_idx == vq->last_used)
			return NULL;
		vq_barrier();
		struct vq_used_elem e = vq->used->ring[vq->last_used & (vq->size - 1)];
		vq->last_used++;
		if (e.id >= vq->size || !vq->cookies[e.id]) {
			if (bad)
				(*bad)++;
			continue;
		}
		void *cookie = vq->cookies[e.id];
		uint16_t head = (uint16_t)e.id, last = head, n = vq->chain_len[head];
		vq->cookies[head] = NULL;
		vq->chain_len[head] = 0;
		for (uint16_t i = 1; i < n; i++)
			last = vq->next[last];
		vq->next[last] = vq->free_head;
		vq->free_head = head;
		vq->num_free = (uint16_t)(vq->num_free + n);
		*len = e.len;
		return cookie;
	}
}
