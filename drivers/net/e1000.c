/* Intel e1000 family (8254x, QEMU -device e1000; 82574, -device e1000e),
 * polled. A frame may span several transmit descriptors (one per segment);
 * received frames must fit one buffer. Frames whose TCP/UDP checksum the
 * device fills in go as data descriptors after a context descriptor that
 * says where the checksum lies (written again only when that changes);
 * the rest go as legacy descriptors. Receive checksum offload is on: the
 * device vouches for a frame with TCPCS and flags a bad one with TCPE. */
#include "drivers/net/e1000_regs.h"
#include "drivers/net/nic.h"
#include "drivers/net/nic_drivers.h"
#include "drivers/pci/pci.h"
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

#define RING_SIZE 256 /* descriptors: one page per ring */

struct e1000 {
	volatile uint8_t *regs;
	bool is_82574;
	struct e1000_rx_desc *rx;
	struct e1000_tx_desc *tx;
	struct nic_rx_buf rx_buf[RING_SIZE];
	void *tx_cookie[RING_SIZE]; /* on the last descriptor of each frame */
	unsigned rx_next;           /* next descriptor the device completes */
	unsigned tx_use, tx_clean;  /* free-running indexes */
	unsigned tx_unflushed;      /* frames queued since TDT was last written */
	struct nic_tx_csum tx_ctx;  /* what the last context descriptor said */
	bool tx_ctx_valid;
};

static uint32_t rd(struct e1000 *e, uint32_t reg)
{
	return *(volatile uint32_t *)(e->regs + reg);
}

static void wr(struct e1000 *e, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(e->regs + reg) = v;
}

static bool reset(struct e1000 *e)
{
	wr(e, E1000_IMC, 0xffffffff);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST);
	uint64_t deadline = time_ns() + 50 * NS_PER_MS;
	while ((rd(e, E1000_CTRL) & E1000_CTRL_RST) && time_ns() < deadline)
		__asm__ volatile("pause");
	if (rd(e, E1000_CTRL) & E1000_CTRL_RST)
		return false;
	wr(e, E1000_IMC, 0xffffffff); /* we poll */
	(void)rd(e, E1000_ICR);
	return true;
}

static bool eeprom_word(struct e1000 *e, unsigned addr, uint16_t *out)
{
	uint32_t done = e->is_82574 ? E1000_EERD_DONE_82574 : E1000_EERD_DONE_8254X;
	unsigned shift = e->is_82574 ? E1000_EERD_ADDR_SHIFT_82574 : E1000_EERD_ADDR_SHIFT_8254X;

	wr(e, E1000_EERD, E1000_EERD_START | addr << shift);
	uint64_t deadline = time_ns() + 10 * NS_PER_MS;
	uint32_t v;
	while (!((v = rd(e, E1000_EERD)) & done))
		if (time_ns() > deadline)
			return false;
	*out = (uint16_t)(v >> 16);
	return true;
}

/* The receive address register holds the MAC after reset (loaded from the
 * NVM); the EEPROM is the fallback. */
static bool read_mac(struct e1000 *e, uint8_t mac[6])
{
	uint32_t hi = rd(e, E1000_RAH0), lo = rd(e, E1000_RAL0);

	if (hi & E1000_RAH_AV) {
		for (int i = 0; i < 4; i++)
			mac[i] = (uint8_t)(lo >> (8 * i));
		mac[4] = (uint8_t)hi;
		mac[5] = (uint8_t)(hi >> 8);
		return true;
	}
	for (unsigned w = 0; w < 3; w++) {
		uint16_t v;
		if (!eeprom_word(e, w, &v))
			return false;
		mac[2 * w] = (uint8_t)v;
		mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	wr(e, E1000_RAL0, mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
	wr(e, E1000_RAH0, mac[4] | mac[5] << 8 | E1000_RAH_AV);
	return true;
}

static bool fill_rx_slot(struct nic *nic, struct e1000 *e, unsigned i)
{
	struct nic_rx_buf *b = &e->rx_buf[i];

	if (!nic->client.rx_buf_alloc(nic->client.ctx, b)) {
		b->cookie = NULL;
		return false;
	}
	e->rx[i] = (struct e1000_rx_desc){ .addr = virt_to_phys(b->data) };
	return true;
}

static bool e1000_start(struct nic *nic)
{
	struct e1000 *e = nic->priv;

	for (unsigned i = 0; i < RING_SIZE; i++)
		if (!fill_rx_slot(nic, e, i))
			return false;
	wr(e, E1000_RDBAL, (uint32_t)virt_to_phys(e->rx));
	wr(e, E1000_RDBAH, (uint32_t)(virt_to_phys(e->rx) >> 32));
	wr(e, E1000_RDLEN, RING_SIZE * sizeof(struct e1000_rx_desc));
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, RING_SIZE - 1);
	wr(e, E1000_TDBAL, (uint32_t)virt_to_phys(e->tx));
	wr(e, E1000_TDBAH, (uint32_t)(virt_to_phys(e->tx) >> 32));
	wr(e, E1000_TDLEN, RING_SIZE * sizeof(struct e1000_tx_desc));
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	for (unsigned i = 0; i < E1000_MTA_ENTRIES; i++)
		wr(e, E1000_MTA + 4 * i, 0);
	wr(e, E1000_RXCSUM, E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD);
	wr(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 |
				  E1000_RCTL_SECRC);
	wr(e, E1000_TIPG, E1000_TIPG_DEFAULT);
	wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(0x0f) |
				  E1000_TCTL_COLD(0x40));
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);
	nic->started = true;
	return true;
}

static void reap_tx(struct nic *nic, struct e1000 *e)
{
	while (e->tx_clean != e->tx_use) {
		unsigned i = e->tx_clean % RING_SIZE;
		if (!(*(volatile uint8_t *)&e->tx[i].status & E1000_TXD_STAT_DD))
			break;
		void *cookie = e->tx_cookie[i];
		e->tx_cookie[i] = NULL;
		e->tx_clean++;
		if (cookie && cookie != nic)
			nic->client.tx_done(nic->client.ctx, cookie);
	}
}

static void e1000_flush(struct nic *nic)
{
	struct e1000 *e = nic->priv;

	if (!e->tx_unflushed)
		return;
	__asm__ volatile("" ::: "memory");
	wr(e, E1000_TDT, e->tx_use % RING_SIZE);
	e->tx_unflushed = 0;
}

/* Says where the checksum of the frames that follow lies, unless the last
 * context descriptor already said so (the caller left room for one). */
static void set_tx_context(struct e1000 *e, const struct nic_tx_csum *csum)
{
	if (e->tx_ctx_valid && e->tx_ctx.start == csum->start && e->tx_ctx.offset == csum->offset)
		return;
	unsigned i = e->tx_use++ % RING_SIZE;
	struct e1000_tx_ctx_desc *c = (struct e1000_tx_ctx_desc *)&e->tx[i];
	*c = (struct e1000_tx_ctx_desc){
		.tucss = (uint8_t)csum->start,
		.tucso = (uint8_t)(csum->start + csum->offset),
		.tucse = 0,
		/* TUCMD.TCP only matters for segmentation, which is not asked for. */
		.cmd_len = E1000_TXD_DEXT | E1000_TUCMD_RS | E1000_TUCMD_IP |
			   (csum->offset == 16 ? E1000_TUCMD_TCP : 0),
	};
	e->tx_cookie[i] = NULL;
	e->tx_ctx = *csum;
	e->tx_ctx_valid = true;
}

static enum nic_send_result e1000_send(struct nic *nic, const struct nic_seg *segs, int nsegs,
				       const struct nic_tx_csum *csum, void *cookie)
{
	struct e1000 *e = nic->priv;
	size_t len = nic_frame_len(segs, nsegs);

	/* The context descriptor's fields are bytes. */
	if (!len || (csum && (csum->start > 0xff || csum->start + csum->offset + 2u > len ||
			      csum->start + csum->offset > 0xff)))
		return NIC_BAD_FRAME;
	unsigned need = (unsigned)nsegs + (csum ? 1 : 0);
	if (RING_SIZE - 1 - (e->tx_use - e->tx_clean) < need) {
		e1000_flush(nic); /* what waits untold never completes */
		reap_tx(nic, e);
	}
	if (RING_SIZE - 1 - (e->tx_use - e->tx_clean) < need) {
		nic->stats.tx_ring_full++;
		return NIC_RING_FULL;
	}
	if (csum) {
		set_tx_context(e, csum);
		nic->stats.tx_csum_offloaded++;
	}
	for (int s = 0; s < nsegs; s++) {
		unsigned i = e->tx_use++ % RING_SIZE;
		bool last = s == nsegs - 1;
		/* Every descriptor reports status (RS) so reaping can walk them
		 * one by one; the cookie rides on the last. The datasheets read
		 * the packet options from the first data descriptor only; QEMU's
		 * e1000e from each, so each carries them. */
		e->tx[i] = (struct e1000_tx_desc){
			.addr = virt_to_phys(segs[s].data),
			.length = (uint16_t)segs[s].len,
			.cso = csum ? E1000_TXD_DATA_CSO : 0,
			.cmd = E1000_TXD_CMD_RS | E1000_TXD_CMD_IFCS | (last ? E1000_TXD_CMD_EOP : 0) |
			       (csum ? E1000_TXD_CMD_DEXT : 0),
			.css = csum ? E1000_TXD_POPTS_TXSM : 0,
		};
		e->tx_cookie[i] = last ? (cookie ? cookie : nic) : NULL;
	}
	nic->stats.tx_frames++;
	nic->stats.tx_bytes += len;
	if (++e->tx_unflushed >= NIC_KICK_BATCH)
		nic->ops->flush(nic);
	return NIC_SENT;
}

static int e1000_poll(struct nic *nic, int budget)
{
	struct e1000 *e = nic->priv;
	int received = 0;
	unsigned last_filled = RING_SIZE;

	reap_tx(nic, e);
	while (received < budget) {
		unsigned i = e->rx_next;
		volatile struct e1000_rx_desc *d = &e->rx[i];
		uint8_t status = d->status;
		if (!(status & E1000_RXD_STAT_DD))
			break;
		__asm__ volatile("" ::: "memory");
		struct nic_rx_buf b = e->rx_buf[i];
		uint16_t len = d->length;
		received++;
		e->rx_next = (i + 1) % RING_SIZE;
		if (b.cookie && fill_rx_slot(nic, e, i)) {
			/* The old buffer goes up the stack. */
			if (!(status & E1000_RXD_STAT_EOP) || d->errors) {
				nic->stats.rx_errors++;
				nic->client.rx_buf_free(nic->client.ctx, b.cookie);
			} else {
				bool vouched = (status & (E1000_RXD_STAT_TCPCS | E1000_RXD_STAT_IXSM)) ==
					       E1000_RXD_STAT_TCPCS;
				nic_rx_frame(nic, b.cookie, b.data, len,
					     vouched ? NIC_RX_L4_CSUM_GOOD : 0);
			}
		} else {
			/* No new buffer: keep the old one in the ring, drop the frame. */
			nic->stats.rx_dropped++;
			e->rx_buf[i] = b;
			e->rx[i] = (struct e1000_rx_desc){ .addr = virt_to_phys(b.data) };
		}
		last_filled = i;
	}
	if (last_filled != RING_SIZE)
		wr(e, E1000_RDT, last_filled);
	return received;
}

static bool e1000_link_up(struct nic *nic)
{
	struct e1000 *e = nic->priv;

	return rd(e, E1000_STATUS) & E1000_STATUS_LU;
}

static const struct nic_ops e1000_ops = {
	.start = e1000_start,
	.send = e1000_send,
	.flush = e1000_flush,
	.poll = e1000_poll,
	.link_up = e1000_link_up,
};

static struct nic *e1000_probe(struct pci_device *pci, const char *model)
{
	struct e1000 *e = kzalloc(sizeof(*e));
	const char *why = "out of memory";
	struct nic *nic = NULL;

	if (!e)
		goto fail;
	e->is_82574 = !strcmp(model, "e1000e");
	e->regs = pci_map_bar(pci, 0);
	if (!e->regs) {
		why = "BAR0 is not a usable memory BAR";
		goto fail;
	}
	pci_enable(pci);
	/* Rings: page aligned (the device needs 16 bytes), zeroed. */
	uint64_t rx = pages_alloc(1, 1), tx = pages_alloc(1, 1);
	if (!rx || !tx)
		goto fail;
	e->rx = phys_to_virt(rx);
	e->tx = phys_to_virt(tx);
	if (!reset(e)) {
		why = "device reset did not complete";
		goto fail;
	}
	uint8_t mac[6];
	if (!read_mac(e, mac)) {
		why = "no MAC address (receive address and EEPROM unreadable)";
		goto fail;
	}
	nic = nic_register(model, pci, &e1000_ops, e);
	if (!nic) {
		why = "too many NICs";
		goto fail;
	}
	memcpy(nic->mac, mac, 6);
	nic->offloads = NIC_OFFLOAD_TX_L4_CSUM | NIC_OFFLOAD_RX_L4_CSUM;
	return nic;
fail:
	log_warn("net: %s at %02x:%02x.%x: %s", model, pci->bus, pci->dev, pci->fn, why);
	return NULL;
}

static const struct nic_pci_id e1000_ids[] = {
	{ 0x8086, 0x100e, "e1000" },  /* 82540EM: QEMU's e1000 */
	{ 0x8086, 0x100f, "e1000" },  /* 82545EM */
	{ 0x8086, 0x1004, "e1000" },  /* 82543GC */
	{ 0x8086, 0x10d3, "e1000e" }, /* 82574L: QEMU's e1000e */
	{ 0 },
};

const struct nic_driver e1000_driver = {
	.name = "e1000",
	.ids = e1000_ids,
	.probe = e1000_probe,
};
