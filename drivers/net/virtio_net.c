/* virtio-net (QEMU's virtio-net-pci) over the modern PCI transport: one
 * receive and one transmit queue, polled. Every frame carries the 12-byte
 * virtio_net_hdr in front (VERSION_1), all zero: no offloads. */
#include "drivers/net/nic.h"
#include "drivers/net/nic_drivers.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_pci.h"
#include "hv/core/log.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define VIRTIO_NET_F_STATUS (1ull << 16)
#define VIRTIO_NET_S_LINK_UP 1
#define VNET_HDR_LEN 12
#define VNET_CFG_MAC 0    /* 6 bytes, with VIRTIO_NET_F_MAC */
#define VNET_CFG_STATUS 6 /* le16, with VIRTIO_NET_F_STATUS */
#define RX_QUEUE 0
#define TX_QUEUE 1
#define QUEUE_MAX 256

struct virtio_net {
	struct virtio_pci vp;
	struct virtqueue rx, tx;
	volatile uint16_t *rx_notify, *tx_notify;
	uint8_t *tx_hdr; /* one zeroed header, shared by every frame sent */
	unsigned tx_unflushed; /* frames published since the last notification */
	uint64_t bad_used;
};

static bool refill_one(struct nic *nic, struct virtio_net *vn)
{
	struct nic_rx_buf b;

	if (!nic->client.rx_buf_alloc(nic->client.ctx, &b))
		return false;
	struct vq_buf vb = { .addr = virt_to_phys(b.data), .len = (uint32_t)b.cap,
			     .device_writes = true };
	if (!vq_add(&vn->rx, &vb, 1, b.cookie)) {
		nic->client.rx_buf_free(nic->client.ctx, b.cookie);
		return false;
	}
	return true;
}

/* The receive buffers hold the header followed by the frame. */
static void refill(struct nic *nic, struct virtio_net *vn)
{
	while (vn->rx.num_free && refill_one(nic, vn))
		;
	if (vq_publish(&vn->rx))
		*vn->rx_notify = RX_QUEUE;
}

static bool vnet_start(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;

	refill(nic, vn);
	virtio_pci_driver_ok(&vn->vp);
	nic->started = true;
	return vn->rx.num_free < vn->rx.size;
}

/* The available index goes out with the notification: a device that
 * polls the ring (QEMU while its transmit handler runs) sees the frames
 * no sooner than one told. */
static void vnet_flush(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;

	if (!vn->tx_unflushed)
		return;
	vn->tx_unflushed = 0;
	if (vq_publish(&vn->tx))
		*vn->tx_notify = TX_QUEUE;
}

static enum nic_send_result vnet_send(struct nic *nic, const struct nic_seg *segs, int nsegs,
				      const struct nic_tx_csum *csum, void *cookie)
{
	(void)csum; /* no offloads negotiated: .offloads is 0 */
	struct virtio_net *vn = nic->priv;
	struct vq_buf bufs[NIC_MAX_TX_SEGS + 1];
	size_t len = nic_frame_len(segs, nsegs);

	if (!len)
		return NIC_BAD_FRAME;
	bufs[0] = (struct vq_buf){ .addr = virt_to_phys(vn->tx_hdr), .len = VNET_HDR_LEN };
	for (int i = 0; i < nsegs; i++)
		bufs[i + 1] = (struct vq_buf){ .addr = virt_to_phys(segs[i].data),
					       .len = (uint32_t)segs[i].len };
	/* Reap first: the ring may be full only of finished sends (and of
	 * frames the device has not been told of yet). */
	if (vn->tx.num_free < nsegs + 1) {
		vnet_flush(nic);
		nic->ops->poll(nic, 0);
	}
	if (!vq_add(&vn->tx, bufs, nsegs + 1, cookie ? cookie : (void *)nic)) {
		nic->stats.tx_ring_full++;
		return NIC_RING_FULL;
	}
	nic->stats.tx_frames++;
	nic->stats.tx_bytes += len;
	if (++vn->tx_unflushed >= NIC_KICK_BATCH)
		nic->ops->flush(nic);
	return NIC_SENT;
}

static int vnet_poll(struct nic *nic, int budget)
{
	struct virtio_net *vn = nic->priv;
	uint32_t len;
	void *cookie;
	int received = 0;

	while ((cookie = vq_reap(&vn->tx, &len, &vn->bad_used)))
		if (cookie != nic)
			nic->client.tx_done(nic->client.ctx, cookie);

	while (received < budget && (cookie = vq_reap(&vn->rx, &len, &vn->bad_used))) {
		received++;
		/* The device wrote the header, then the frame. */
		if (len < VNET_HDR_LEN) {
			nic->stats.rx_errors++;
			nic->client.rx_buf_free(nic->client.ctx, cookie);
			continue;
		}
		uint8_t *data = nic->client.rx_buf_data(nic->client.ctx, cookie);
		nic_rx_frame(nic, cookie, data + VNET_HDR_LEN, len - VNET_HDR_LEN, 0);
	}
	if (received)
		refill(nic, vn);
	return received;
}

static bool vnet_link_up(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;

	if (!(vn->vp.features & VIRTIO_NET_F_STATUS))
		return true;
	return *(volatile uint16_t *)(vn->vp.device_cfg + VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
}

static const struct nic_ops vnet_ops = {
	.start = vnet_start,
	.send = vnet_send,
	.flush = vnet_flush,
	.poll = vnet_poll,
	.link_up = vnet_link_up,
};

static struct nic *vnet_probe(struct pci_device *pci, const char *model)
{
	struct virtio_net *vn = kzalloc(sizeof(*vn));
	const char *why = "out of memory";

	if (!vn)
		goto fail;
	if (!virtio_pci_open(&vn->vp, pci, &why) ||
	    !virtio_pci_negotiate(&vn->vp, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS, &why))
		goto fail;
	/* The fields read later must lie in the structure the device described. */
	uint32_t needed = vn->vp.features & VIRTIO_NET_F_STATUS ? VNET_CFG_STATUS + 2 :
			  vn->vp.features & VIRTIO_NET_F_MAC ? VNET_CFG_MAC + 6 : 0;
	if (vn->vp.device_cfg_len < needed) {
		why = "device configuration too short";
		goto fail;
	}
	vn->tx_hdr = kzalloc(VNET_HDR_LEN);
	vn->rx_notify = virtio_pci_setup_queue(&vn->vp, RX_QUEUE, QUEUE_MAX, &vn->rx);
	vn->tx_notify = virtio_pci_setup_queue(&vn->vp, TX_QUEUE, QUEUE_MAX, &vn->tx);
	if (!vn->tx_hdr || !vn->rx_notify || !vn->tx_notify) {
		why = "queue setup failed";
		goto fail;
	}
	/* The device never interrupts us: we poll. */
	vn->rx.avail->flags = VQ_AVAIL_F_NO_INTERRUPT;
	vn->tx.avail->flags = VQ_AVAIL_F_NO_INTERRUPT;
	struct nic *nic = nic_register(model, pci, &vnet_ops, vn);
	if (!nic) {
		why = "too many NICs";
		goto fail;
	}
	for (int i = 0; i < 6; i++)
		nic->mac[i] = (vn->vp.features & VIRTIO_NET_F_MAC) ?
				      vn->vp.device_cfg[VNET_CFG_MAC + i] : 0;
	return nic;
fail:
	log_warn("net: virtio-net at %02x:%02x.%x: %s", pci->bus, pci->dev, pci->fn, why);
	if (vn && vn->vp.common)
		virtio_pci_reset(&vn->vp);
	if (vn)
		kfree(vn);
	return NULL;
}

static const struct nic_pci_id vnet_ids[] = {
	{ 0x1af4, 0x1000, "virtio-net" }, /* transitional */
	{ 0x1af4, 0x1041, "virtio-net" }, /* modern only */
	{ 0 },
};

const struct nic_driver virtio_net_driver = {
	.name = "virtio-net",
	.ids = vnet_ids,
	.probe = vnet_probe,
};
