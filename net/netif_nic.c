/* lwIP netif over a NIC driver. Receive buffers are lwIP pbufs lent to the
 * driver, so frames reach lwIP without a copy; sends hand the pbuf chain's
 * payloads to the NIC as segments and keep a reference until the device is
 * done (lwIP's TCP then leaves a busy segment alone instead of rewriting
 * it under the device). */
#include "drivers/net/nic.h"
#include "hv/core/time.h"
#include "hv/lib/string.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "net/net.h"
#include "net/l4_csum.h"
#include "net/net_internal.h"
#include "netif/ethernet.h"

#define TX_RETRY_NS (50 * NS_PER_MS)

static bool rx_buf_alloc(void *ctx, struct nic_rx_buf *out)
{
	(void)ctx;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, NIC_RX_BUF_SIZE, PBUF_RAM);

	if (!p)
		return false;
	*out = (struct nic_rx_buf){ .cookie = p, .data = p->payload, .cap = NIC_RX_BUF_SIZE };
	return true;
}

static void rx_buf_free(void *ctx, void *cookie)
{
	(void)ctx;
	pbuf_free(cookie);
}

static uint8_t *rx_buf_data(void *ctx, void *cookie)
{
	(void)ctx;
	return ((struct pbuf *)cookie)->payload;
}

/* What lwIP computes and checks itself on this interface. */
static void apply_checksum_flags(struct net_if *nif)
{
	unsigned flags = NETIF_CHECKSUM_ENABLE_ALL;

	if (nif->csum_offload)
		flags &= ~NETIF_CHECKSUM_GEN_TCP;
	if (nif->rx_csum_by_nic)
		flags &= ~NETIF_CHECKSUM_CHECK_TCP;
	NETIF_SET_CHECKSUM_CTRL(&nif->netif, flags);
}

static void rx_deliver(void *ctx, void *cookie, uint8_t *frame, size_t len, unsigned flags)
{
	struct net_if *nif = ctx;
	struct pbuf *p = cookie;

	/* lwIP checks TCP checksums until the device shows it does (QEMU's
	 * e1000 never does, its e1000e does); from then on a frame it did not
	 * vouch for is checked here. */
	if ((flags & NIC_RX_L4_CSUM_GOOD) && nif->csum_offload && !nif->rx_csum_by_nic) {
		nif->rx_csum_by_nic = true;
		apply_checksum_flags(nif);
	}
	if (nif->rx_csum_by_nic && !(flags & NIC_RX_L4_CSUM_GOOD)) {
		enum l4_csum_verdict v = l4_csum_check(frame, len);
		if (v == L4_CSUM_BAD) {
			nif->rx_csum_bad++;
			pbuf_free(p);
			return;
		}
		if (v == L4_CSUM_GOOD)
			nif->rx_csum_sw++;
		/* The segment this piece completes reaches TCP inside this
		 * input call: lwIP checks it, until the NIC vouches again. */
		if (v == L4_CSUM_TCP_FRAGMENT) {
			nif->rx_csum_by_nic = false;
			apply_checksum_flags(nif);
		}
	}

	/* Trim the buffer to the frame (a device header may precede it). */
	pbuf_remove_header(p, (size_t)(frame - (uint8_t *)p->payload));
	pbuf_realloc(p, (u16_t)len);
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	if (type == NET_ETHERTYPE_RAWPERF) {
		net_rawperf_input(nif, frame, len);
		pbuf_free(p);
		return;
	}
	if (nif->netif.input(p, &nif->netif) != ERR_OK)
		pbuf_free(p);
}

static void tx_done(void *ctx, void *cookie)
{
	(void)ctx;
	pbuf_free(cookie);
}

/* Sends segments, polling the NIC for room for a short while when its ring
 * is full (TCP would otherwise wait for a retransmission timeout). */
static err_t send_segments(struct net_if *nif, const struct nic_seg *segs, int n, void *cookie)
{
	struct nic *nic = nif->nic;
	uint64_t deadline = 0;
	struct nic_tx_csum csum, *ask = NULL;

	/* lwIP left the TCP checksum to us: the device finishes it. */
	if (nif->csum_offload &&
	    l4_csum_prepare((uint8_t *)segs[0].data, segs[0].len, nic_frame_len(segs, n), &csum))
		ask = &csum;
	for (;;) {
		enum nic_send_result r = nic->ops->send(nic, segs, n, ask, cookie);
		if (r == NIC_SENT)
			return ERR_OK;
		if (r != NIC_RING_FULL)
			break;
		uint64_t now = time_ns();
		if (!deadline)
			deadline = now + TX_RETRY_NS;
		else if (now > deadline)
			break;
		nic->ops->poll(nic, 0);
	}
	nif->tx_dropped++;
	return ERR_IF;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	struct net_if *nif = (struct net_if *)netif;
	struct nic_seg segs[NIC_MAX_TX_SEGS];
	int n = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		if (!q->len)
			continue;
		if (n == NIC_MAX_TX_SEGS) {
			n = -1;
			break;
		}
		segs[n++] = (struct nic_seg){ .data = q->payload, .len = q->len };
	}
	if (n > 0 && nif->csum_offload &&
	    l4_csum_headers_split(segs[0].data, segs[0].len, p->tot_len))
		n = -1;
	if (n < 0) {
		/* Too many pieces for one frame, or TCP headers cut: a flat copy. */
		struct pbuf *flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		if (!flat) {
			nif->tx_dropped++;
			return ERR_MEM;
		}
		nif->tx_copied++;
		segs[0] = (struct nic_seg){ .data = flat->payload, .len = flat->len };
		err_t e = send_segments(nif, segs, 1, flat);
		if (e != ERR_OK)
			pbuf_free(flat);
		return e;
	}
	pbuf_ref(p);
	err_t e = send_segments(nif, segs, n, p);
	if (e != ERR_OK)
		pbuf_free(p);
	return e;
}

static err_t netif_nic_init(struct netif *netif)
{
	struct net_if *nif = (struct net_if *)netif;

	netif->name[0] = 'e';
	netif->name[1] = 't';
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, nif->nic->mac, ETH_HWADDR_LEN);
	netif->mtu = 1500;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = linkoutput;
	net_if_set_csum_offload(nif, true);
	return ERR_OK;
}

bool net_if_set_csum_offload(struct net_if *nif, bool on)
{
	nif->csum_offload = on && (nif->nic->offloads & NIC_OFFLOAD_TX_L4_CSUM);
	nif->rx_csum_by_nic = false; /* until the device vouches for a frame again */
	apply_checksum_flags(nif);
	return nif->csum_offload == on;
}

bool net_if_attach(struct net_if *nif, struct nic *nic)
{
	nif->nic = nic;
	nic->client = (struct nic_client){
		.rx_buf_alloc = rx_buf_alloc,
		.rx_buf_free = rx_buf_free,
		.rx_buf_data = rx_buf_data,
		.rx_deliver = rx_deliver,
		.tx_done = tx_done,
		.ctx = nif,
	};
	if (!netif_add(&nif->netif, NULL, NULL, NULL, nif, netif_nic_init, ethernet_input))
		return false;
	if (!nic->ops->start(nic))
		return false;
	netif_set_up(&nif->netif);
	nic->last_link = nic->ops->link_up(nic);
	if (nic->last_link)
		netif_set_link_up(&nif->netif);
	nif->up = true;
	return true;
}

/* Sends a raw frame straight through the driver (no lwIP, no copy); the
 * frame must stay unchanged until the NIC is done with it. */
bool net_if_send_raw(struct net_if *nif, const void *frame, size_t len)
{
	struct nic_seg seg = { .data = frame, .len = len };

	return nif->nic->ops->send(nif->nic, &seg, 1, NULL, NULL) == NIC_SENT;
}
