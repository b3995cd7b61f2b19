/* A simulated virtio-net (modern PCI) for fuzz_nic_rx. The capabilities
 * are fixed (fuzz_pci_caps varies them); the input picks the features,
 * the queue size offered, the notify multiplier and offset and the device
 * configuration's length. The common configuration is plain memory, so
 * selecting queue 1 does not hide queue 0's registers: queue 0's rings are
 * read when the driver starts allocating queue 1's (the pages hook), queue
 * 1's once the probe is done. The device side then takes buffers from the
 * available rings as virtio 1.1 2.6 says and writes used entries whose IDs
 * and lengths the input decides. */
#include <stdlib.h>
#include <string.h>

#include "drivers/net/nic_drivers.h"
#include "drivers/virtio/virtqueue.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_nic.h"
#include "tests/fuzz/fuzz_pci_sim.h"

#define BAR_BYTES 0x4000
#define COMMON 0x0000
#define NOTIFY 0x1000
#define NOTIFY_LEN 0x1000
#define ISR 0x2000
/* The device configuration ends the BAR: a read past its length is a read
 * past the BAR's heap block. */
#define DEVICE_CFG_MAX 16
/* Common configuration registers (virtio 1.x 4.1.4.3). */
#define CC_DEVICE_FEATURE 0x04
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_NOTIFY_OFF 0x1e
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30
#define HDR_LEN 12 /* virtio_net_hdr with VERSION_1 */

struct sim_queue {
	uint16_t size; /* 0: not seen */
	struct vq_desc *desc;
	struct vq_avail *avail;
	struct vq_used *used;
	uint16_t taken; /* available entries the device consumed */
	uint16_t used_idx;
	bool held[VQ_MAX_SIZE]; /* heads the device took and has not used */
	bool lied; /* a hostile write happened here: the driver's view may differ */
};

static struct pci_device pci;
static uint8_t *bar;
static struct sim_queue queues[2];

static uint64_t get64(unsigned off)
{
	uint64_t v;

	memcpy(&v, bar + COMMON + off, 8);
	return v;
}

static uint16_t get16(unsigned off)
{
	uint16_t v;

	memcpy(&v, bar + COMMON + off, 2);
	return v;
}

static void put16(unsigned off, uint16_t v)
{
	memcpy(bar + COMMON + off, &v, 2);
}

static void put32(unsigned off, uint32_t v)
{
	memcpy(bar + COMMON + off, &v, 4);
}

/* The queue the driver has just enabled, as its registers say. */
static void latch(struct sim_queue *q)
{
	uint16_t size = get16(CC_QUEUE_SIZE);

	if (q->size || get16(CC_QUEUE_ENABLE) != 1)
		return;
	if (!size || (size & (size - 1)) || size > VQ_MAX_SIZE)
		abort(); /* split rings must be a power of two (virtio 1.1 2.6) */
	*q = (struct sim_queue){ .size = size,
				 .desc = (void *)(uintptr_t)get64(CC_QUEUE_DESC),
				 .avail = (void *)(uintptr_t)get64(CC_QUEUE_DRIVER),
				 .used = (void *)(uintptr_t)get64(CC_QUEUE_DEVICE) };
}

static void on_pages_alloc(void)
{
	latch(&queues[0]);
}

static void add_cap(uint8_t *cfg, uint8_t at, uint8_t next, uint8_t type, uint32_t off,
		    uint32_t len, uint32_t multiplier)
{
	uint8_t *c = cfg + at;

	c[0] = PCI_CAP_ID_VENDOR;
	c[1] = next;
	c[2] = type == 2 ? 20 : 16;
	c[3] = type;
	c[4] = 0; /* BAR 0 */
	memcpy(c + 8, &off, 4);
	memcpy(c + 12, &len, 4);
	memcpy(c + 16, &multiplier, 4);
}

/* Set-up: features (u32, bit 0 of it also stands for VERSION_1 since
 * both halves read back the same), queue size (u16), notify offset (u8)
 * and multiplier (u8), device configuration length (u8), link status. */
static struct nic *probe(struct fuzz_in *in)
{
	uint8_t *cfg = fuzz_pci_config();

	pci = (struct pci_device){ .vendor = 0x1af4, .device = 0x1041 };
	bar = fuzz_pci_mem_bar(&pci, 0, BAR_BYTES);
	memset(queues, 0, sizeof(queues));
	cfg[PCI_CFG_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CFG_CAP_PTR] = 0x40;
	put32(CC_DEVICE_FEATURE, in_u32(in));
	put16(CC_QUEUE_SIZE, in_u16(in));
	put16(CC_QUEUE_NOTIFY_OFF, in_u8(in));
	uint32_t multiplier = in_u8(in);
	add_cap(cfg, 0x40, 0x54, 1, COMMON, 0x38, 0);
	add_cap(cfg, 0x54, 0x68, 2, NOTIFY, NOTIFY_LEN, multiplier);
	add_cap(cfg, 0x68, 0x78, 3, ISR, 1, 0);
	uint32_t device_len = in_u8(in) % DEVICE_CFG_MAX;
	add_cap(cfg, 0x78, 0x00, 4, BAR_BYTES - device_len, device_len, 0);
	for (uint32_t i = 0; i < 8; i++) {
		uint8_t v = in_u8(in); /* MAC, then status (bit 0: link up) */
		if (i < device_len)
			bar[BAR_BYTES - device_len + i] = v;
	}
	fuzz_pages_hook = on_pages_alloc;

	struct nic *nic = virtio_net_driver.probe(&pci, "virtio-net");
	fuzz_pages_hook = NULL;
	if (!nic)
		return NULL;
	latch(&queues[1]);
	if (!queues[0].size || !queues[1].size)
		abort(); /* a NIC whose queues the device never saw enabled */
	nic->client = fuzz_client;
	fuzz_client_starved = in_u8(in) & 1;
	bool started = nic->ops->start(nic);
	fuzz_client_starved = false;
	return started ? nic : NULL;
}

/* The next head the driver made available, or -1. */
static int take(struct sim_queue *q)
{
	uint16_t idx = q->avail->idx;

	if (q->taken == idx)
		return -1;
	if (!q->lied && (uint16_t)(idx - q->taken) > q->size)
		abort(); /* the driver published more than the ring holds */
	uint16_t head = q->avail->ring[q->taken++ % q->size];
	if (head >= q->size || (!q->lied && q->held[head]))
		abort(); /* out of the table, or a head already with the device */
	q->held[head] = true;
	return head;
}

static void put_used(struct sim_queue *q, uint32_t id, uint32_t len)
{
	q->used->ring[q->used_idx % q->size] = (struct vq_used_elem){ id, len };
	q->used_idx++;
	q->used->idx = q->used_idx;
	if (id < q->size)
		q->held[id] = false;
}

/* Fills receive buffers: a header and a frame of the input's length (cut
 * at the buffer), then a used entry with the true head or, when the input
 * says so, any ID and length. */
static void rx(struct fuzz_in *in)
{
	struct sim_queue *q = &queues[0];
	unsigned count = 1 + in_u8(in) % 16;

	for (unsigned k = 0; k < count; k++) {
		int head = take(q);
		if (head < 0)
			return;
		struct vq_desc *d = &q->desc[head];
		/* A receive buffer must be one writable buffer the driver lent;
		 * after the device used a head it never took, the driver may
		 * rightly have given that buffer back: the device writes nothing. */
		bool ok = d->flags == VQ_DESC_F_WRITE && fuzz_client_lent(d->addr, d->len);
		if (!ok && !q->lied)
			abort();
		if (!ok) {
			put_used(q, (uint32_t)head, 0);
			continue;
		}
		uint32_t len = HDR_LEN + in_u16(in) % 1600;
		uint8_t how = in_u8(in);
		if (len > d->len)
			len = d->len;
		fuzz_fill_frame((uint8_t *)(uintptr_t)d->addr, len, how);
		if (how & 0x80) {
			q->lied = true;
			uint32_t id = how & 0x40 ? in_u16(in) : (uint32_t)head;
			put_used(q, id, in_u32(in));
		} else {
			put_used(q, (uint32_t)head, len);
		}
	}
}

/* Sends: walks each chain (header, then the frame's segments) and uses it. */
static void tx(struct fuzz_in *in)
{
	struct sim_queue *q = &queues[1];
	unsigned count = 1 + in_u8(in) % 16;

	for (unsigned k = 0; k < count; k++) {
		int head = take(q);
		if (head < 0)
			return;
		uint16_t i = (uint16_t)head;
		for (unsigned n = 0;; n++) {
			struct vq_desc *d = &q->desc[i];
			/* After a lie (a used entry for a chain this device never
			 * took), the driver rightly reuses that chain's
			 * descriptors while the avail ring still names it: the
			 * walk may start mid-chain or loop through old links. Each
			 * descriptor must still be one the device may read. */
			bool header = d->len == HDR_LEN, sent = fuzz_client_sent(d->addr, d->len);
			if ((d->flags & VQ_DESC_F_WRITE) || !(header || sent))
				abort(); /* a buffer the device may not read */
			if (n >= q->size) {
				if (q->lied)
					break;
				abort(); /* a loop */
			}
			if (!q->lied && (n == 0 ? !header : !sent))
				abort(); /* a chain not header then frame */
			if (!(d->flags & VQ_DESC_F_NEXT))
				break;
			i = d->next;
			if (i >= q->size)
				abort();
		}
		put_used(q, (uint32_t)head, 0);
	}
}

/* The used rings: an index that jumps (over stale entries), or an entry
 * anywhere. */
static void hostile(struct fuzz_in *in)
{
	struct sim_queue *q = &queues[in_u8(in) & 1];
	uint8_t what = in_u8(in);

	q->lied = true;
	if (what & 1) {
		q->used_idx = (uint16_t)(q->used_idx + in_u16(in));
		q->used->idx = q->used_idx;
	} else {
		uint16_t slot = in_u16(in) % q->size;
		uint32_t id = in_u32(in), len = in_u32(in);
		q->used->ring[slot] = (struct vq_used_elem){ id, len };
	}
}

/* The driver cannot lend more receive buffers than its ring has slots. */
static void check(void)
{
	if (fuzz_client_lent_count() > queues[0].size)
		abort();
}

static void release(void)
{
	fuzz_pci_free_bars(&pci);
	bar = NULL;
}

const struct nic_model fuzz_vnet_model = { probe, rx, tx, hostile, check, release };
