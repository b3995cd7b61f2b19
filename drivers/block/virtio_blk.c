/* virtio-blk (virtio 1.x section 5.2) over the modern PCI transport: one
 * request queue, polled. A request is a chain: the 16-byte header
 * (device-readable), the data segments, and one status byte
 * (device-writable). Several requests are in flight; the used ring is
 * reaped from blk poll. The device's answers are checked: a used id that
 * is not a chain in flight (vq_reap), a length larger than the chain's
 * writable bytes, or a status byte other than OK/IOERR/UNSUPP is counted
 * in stats.bad_completions and the request fails with BLK_EIO. */
#include "drivers/block/blk_drivers.h"
#include "drivers/block/blockdev.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_pci.h"
#include "hv/core/log.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX (1ull << 1)
#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
/* Device configuration layout (5.2.4). */
#define CFG_CAPACITY 0 /* le64, in 512-byte sectors whatever blk_size says */
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
/* The common configuration's config_generation byte (4.1.4.3). */
#define CC_CONFIG_GENERATION 0x15
/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define STATUS_UNSET 0xff

#define VBLK_QUEUE 0
#define VBLK_QUEUE_MAX 256
#define VBLK_MAX_DEPTH 32
#define VBLK_MAX_DATA_DESC 64
#define VBLK_MAX_TRANSFER (1024u * 1024)

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* One request in flight: its header and status byte are DMA memory. */
struct vblk_slot {
	struct vblk_hdr hdr;
	uint8_t status;
	bool busy;
	bool flushing;          /* a FUA write's trailing flush */
	uint32_t writable;      /* bytes of the chain the device may write */
	struct blk_request *req;
};

struct vblk {
	struct blockdev dev;
	struct virtio_pci vp;
	struct virtqueue vq;
	volatile uint16_t *notify;
	struct vblk_slot *slots; /* queue_depth of them */
	uint32_t size_max;       /* bytes per descriptor; 0: no limit */
	uint32_t max_data_desc;
	uint32_t sector_shift;   /* log2(block_size / 512) */
};

static unsigned vblk_count;

static int slot_alloc(struct vblk *vb)
{
	for (uint32_t i = 0; i < vb->dev.queue_depth; i++)
		if (!vb->slots[i].busy)
			return (int)i;
	return -1;
}

/* Adds the data segments to bufs, split at size_max; returns the count
 * or -1 when more than max_data_desc are needed. */
static int data_bufs(struct vblk *vb, const struct blk_request *req, struct vq_buf *bufs)
{
	int n = 0;
	bool writes = req->op == BLK_OP_READ;

	for (uint32_t i = 0; i < req->nsegs; i++) {
		uint64_t pa = virt_to_phys(req->segs[i].data);
		for (uint32_t left = req->segs[i].len; left;) {
			uint32_t len = vb->size_max && left > vb->size_max ? vb->size_max : left;
			if ((uint32_t)n == vb->max_data_desc)
				return -1;
			bufs[n++] = (struct vq_buf){ .addr = pa, .len = len,
						     .device_writes = writes };
			pa += len;
			left -= len;
		}
	}
	return n;
}

static void kick(struct vblk *vb)
{
	if (vq_publish(&vb->vq))
		*vb->notify = VBLK_QUEUE;
}

/* Queues the slot's chain: header, data (none for a flush), status. */
static int queue_chain(struct vblk *vb, struct vblk_slot *s, uint32_t type)
{
	struct vq_buf bufs[VBLK_MAX_DATA_DESC + 2];
	const struct blk_request *req = s->req;
	int n = 0;

	/* 5.2.6.1: a FLUSH's sector is 0 (the one after a FUA write reuses its request). */
	uint64_t sector = type == VIRTIO_BLK_T_FLUSH ? 0 : req->lba << vb->sector_shift;
	s->hdr = (struct vblk_hdr){ .type = type, .sector = sector };
	s->status = STATUS_UNSET;
	bufs[0] = (struct vq_buf){ .addr = virt_to_phys(&s->hdr), .len = sizeof(s->hdr) };
	if (type != VIRTIO_BLK_T_FLUSH && (n = data_bufs(vb, req, bufs + 1)) < 0)
		return BLK_EINVAL;
	bufs[n + 1] = (struct vq_buf){ .addr = virt_to_phys(&s->status), .len = 1,
				       .device_writes = true };
	if (n + 2 > vb->vq.size)
		return BLK_EINVAL; /* could never fit */
	s->writable = 1;
	for (int i = 1; i <= n && type == VIRTIO_BLK_T_IN; i++)
		s->writable += bufs[i].len;
	if (!vq_add(&vb->vq, bufs, n + 2, s))
		return BLK_EBUSY;
	kick(vb);
	return BLK_OK;
}

static int vblk_submit(struct blockdev *dev, struct blk_request *req)
{
	struct vblk *vb = dev->priv;
	bool has_flush = vb->vp.features & VIRTIO_BLK_F_FLUSH;

	if (req->op == BLK_OP_FLUSH && !has_flush) {
		blk_complete(dev, req, BLK_OK); /* no cache: writes are durable */
		return BLK_OK;
	}
	int i = slot_alloc(vb);
	if (i < 0)
		return BLK_EBUSY;
	struct vblk_slot *s = &vb->slots[i];
	*s = (struct vblk_slot){ .req = req };
	uint32_t type = req->op == BLK_OP_READ ? VIRTIO_BLK_T_IN :
			req->op == BLK_OP_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
	int rc = queue_chain(vb, s, type);
	if (rc == BLK_OK)
		s->busy = true;
	return rc;
}

/* The device's answer for one chain, judged. */
static int judge(struct vblk *vb, const struct vblk_slot *s, uint32_t len)
{
	uint8_t status = *(volatile uint8_t *)&s->status;

	if (len > s->writable || len < 1 ||
	    (status != VIRTIO_BLK_S_OK && status != VIRTIO_BLK_S_IOERR &&
	     status != VIRTIO_BLK_S_UNSUPP)) {
		vb->dev.stats.bad_completions++;
		return BLK_EIO;
	}
	return status == VIRTIO_BLK_S_OK ? BLK_OK : BLK_EIO;
}

static int vblk_poll(struct blockdev *dev)
{
	struct vblk *vb = dev->priv;
	struct vblk_slot *s;
	uint32_t len;
	int n = 0;

	while ((s = vq_reap(&vb->vq, &len, &dev->stats.bad_completions))) {
		int status = judge(vb, s, len);
		struct blk_request *req = s->req;
		/* FUA over a volatile cache: the write is durable once a flush
		 * issued after its completion completes (virtio has no FUA). */
		if (status == BLK_OK && req->op == BLK_OP_WRITE && req->fua && !s->flushing &&
		    (vb->vp.features & VIRTIO_BLK_F_FLUSH)) {
			s->flushing = true;
			if (queue_chain(vb, s, VIRTIO_BLK_T_FLUSH) == BLK_OK)
				continue;
			status = BLK_EIO;
		}
		s->busy = false;
		blk_complete(dev, req, status);
		n++;
	}
	return n;
}

static void vblk_stop(struct blockdev *dev)
{
	struct vblk *vb = dev->priv;

	virtio_pci_reset(&vb->vp);
}

static const struct blk_ops vblk_ops = { .submit = vblk_submit, .poll = vblk_poll,
					 .stop = vblk_stop };

static uint32_t cfg32(struct vblk *vb, unsigned off)
{
	return *(volatile uint32_t *)(vb->vp.device_cfg + off);
}

/* The 64-bit capacity, read twice 32 bits under an unchanged config
 * generation (4.1.4.3.1). */
static uint64_t read_capacity(struct vblk *vb)
{
	volatile uint8_t *gen = vb->vp.common + CC_CONFIG_GENERATION;
	uint64_t cap;
	uint8_t before;

	for (int tries = 0; tries < 16; tries++) {
		before = *gen;
		cap = cfg32(vb, CFG_CAPACITY) | (uint64_t)cfg32(vb, CFG_CAPACITY + 4) << 32;
		if (*gen == before)
			break;
	}
	return cap;
}

/* Geometry and limits from the configuration, checked. */
static bool read_geometry(struct vblk *vb, const char **why)
{
	struct blockdev *d = &vb->dev;
	uint64_t f = vb->vp.features;
	/* Every field read below must lie in the structure the device
	 * described (virtio_pci only checks that structure fits its BAR). */
	uint32_t needed = f & VIRTIO_BLK_F_BLK_SIZE ? CFG_BLK_SIZE + 4 :
			  f & VIRTIO_BLK_F_SEG_MAX  ? CFG_SEG_MAX + 4 :
			  f & VIRTIO_BLK_F_SIZE_MAX ? CFG_SIZE_MAX + 4 : CFG_CAPACITY + 8;
	if (vb->vp.device_cfg_len < needed) {
		*why = "device configuration too short";
		return false;
	}
	uint32_t bs = f & VIRTIO_BLK_F_BLK_SIZE ? cfg32(vb, CFG_BLK_SIZE) : 512;

	if (bs < 512 || bs > 4096 || (bs & (bs - 1)))
		bs = 512; /* the logical block size is only a hint (5.2.4) */
	d->block_size = bs;
	for (vb->sector_shift = 0; (512u << vb->sector_shift) < bs; vb->sector_shift++)
		;
	d->blocks = read_capacity(vb) >> vb->sector_shift;
	if (!d->blocks) {
		*why = "capacity 0";
		return false;
	}
	vb->size_max = f & VIRTIO_BLK_F_SIZE_MAX ? cfg32(vb, CFG_SIZE_MAX) : 0;
	if (vb->size_max && vb->size_max < 4096)
		vb->size_max = 4096; /* below a page is not worth splitting for */
	uint32_t seg_max = f & VIRTIO_BLK_F_SEG_MAX ? cfg32(vb, CFG_SEG_MAX) : VBLK_MAX_DATA_DESC;
	vb->max_data_desc = seg_max < VBLK_MAX_DATA_DESC ? seg_max : VBLK_MAX_DATA_DESC;
	if (vb->max_data_desc > (uint32_t)vb->vq.size - 2)
		vb->max_data_desc = vb->vq.size - 2u;
	if (!vb->max_data_desc) {
		*why = "device allows no data segment";
		return false;
	}
	uint64_t max = vb->size_max ? (uint64_t)vb->size_max * vb->max_data_desc :
				      VBLK_MAX_TRANSFER;
	d->max_transfer = max < VBLK_MAX_TRANSFER ? (uint32_t)max : VBLK_MAX_TRANSFER;
	d->max_transfer -= d->max_transfer % bs;
	d->read_only = f & VIRTIO_BLK_F_RO;
	/* Without FLUSH the device's cache is write-through (5.2.5). */
	d->volatile_cache = f & VIRTIO_BLK_F_FLUSH;
	return true;
}

static bool vblk_setup(struct vblk *vb, struct pci_device *pci, const char **why)
{
	uint64_t wanted = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_RO |
			  VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;

	if (!virtio_pci_open(&vb->vp, pci, why) || !virtio_pci_negotiate(&vb->vp, wanted, why))
		return false;
	vb->notify = virtio_pci_setup_queue(&vb->vp, VBLK_QUEUE, VBLK_QUEUE_MAX, &vb->vq);
	if (!vb->notify || vb->vq.size < 4) {
		*why = "queue setup failed";
		return false;
	}
	vb->vq.avail->flags = VQ_AVAIL_F_NO_INTERRUPT; /* we poll */
	if (!read_geometry(vb, why))
		return false;
	uint32_t depth = vb->vq.size / 3u; /* header, one segment, status */
	vb->dev.queue_depth = depth < VBLK_MAX_DEPTH ? depth : VBLK_MAX_DEPTH;
	vb->slots = kzalloc(vb->dev.queue_depth * sizeof(*vb->slots));
	if (!vb->slots) {
		*why = "out of memory";
		return false;
	}
	virtio_pci_driver_ok(&vb->vp);
	return true;
}

static unsigned vblk_probe(struct pci_device *pci)
{
	struct vblk *vb = kzalloc(sizeof(*vb));
	const char *why = "out of memory";

	if (vb && vblk_setup(vb, pci, &why)) {
		struct blockdev *d = &vb->dev;
		fmt_snprintf(d->name, sizeof(d->name), "vblk%u", vblk_count);
		str_copy(d->model, "virtio-blk", sizeof(d->model));
		d->ops = &vblk_ops;
		d->priv = vb;
		if (blk_register(d) >= 0) {
			vblk_count++;
			return 1;
		}
		why = "too many block devices";
	}
	log_warn("blk: virtio-blk at %02x:%02x.%x: %s", pci->bus, pci->dev, pci->fn, why);
	if (vb && vb->vp.common)
		virtio_pci_reset(&vb->vp); /* the rings stay allocated: the device saw them */
	if (vb && vb->slots)
		kfree(vb->slots);
	/* vb itself holds the virtqueue the device may have seen: kept. */
	return 0;
}

/* Device ID 2 (5.2.1): 0x1042 modern, 0x1001 transitional (taken only
 * with the modern capabilities, which virtio_pci_open requires). */
static bool vblk_matches(const struct pci_device *pci)
{
	return pci->vendor == 0x1af4 && (pci->device == 0x1042 || pci->device == 0x1001);
}

const struct blk_driver virtio_blk_driver = {
	.name = "virtio-blk",
	.matches = vblk_matches,
	.probe = vblk_probe,
};
