/* Listeners that admit only some peers (migration, disk transfers) say so
 * here, and segments from anyone else to such a listener are dropped
 * before lwIP allocates a PCB or answers: a SYN flood from addresses that
 * are not peers costs nothing but the frames. Refusing at accept time, as
 * before, came after a PCB per SYN had been spent. Listeners open to all
 * get new connections only while PCBs remain for the filtered ones. */
#include "lwip/ip.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "net/net.h"
#include "net_hooks.h"

#define FILTERS_MAX 8
/* PCBs that listeners open to anyone (net perf) leave for filtered ones:
 * a flood at an open port must not take the last PCB a peer's migration
 * needs. */
#define PCBS_KEPT_FOR_PEERS 4

static struct syn_filter {
	const struct tcp_pcb *listener;
	bool (*admits)(const void *ctx, uint32_t ip);
	const void *ctx;
} filters[FILTERS_MAX];

static uint64_t dropped;

uint64_t net_syn_filtered(void)
{
	return dropped;
}

bool net_syn_filter_set(const struct tcp_pcb *listener,
			bool (*admits)(const void *ctx, uint32_t ip), const void *ctx)
{
	struct syn_filter *free_slot = NULL;

	for (size_t i = 0; i < FILTERS_MAX; i++) {
		if (filters[i].listener == listener) {
			filters[i].admits = admits;
			filters[i].ctx = ctx;
			if (!admits)
				filters[i].listener = NULL;
			return true;
		}
		if (!filters[i].listener && !free_slot)
			free_slot = &filters[i];
	}
	if (!admits)
		return true;
	if (!free_slot)
		return false;
	*free_slot = (struct syn_filter){ listener, admits, ctx };
	return true;
}

/* A connection attempt gets a reset, as from a closed port: no state is
 * kept, and a real peer that is not configured learns at once that it was
 * refused instead of waiting for its connect to time out. (lwIP has put
 * the header's fields in host order already.) */
static void refuse(const struct tcp_hdr *hdr, const struct pbuf *p)
{
	if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return;
	tcp_rst(NULL, 0, hdr->seqno + p->tot_len + 1, ip_current_dest_addr(),
		ip_current_src_addr(), hdr->dest, hdr->src);
}

/* Called by lwIP for every segment to a listening PCB (and to others,
 * which pass). */
err_t net_syn_filter_hook(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p)
{
	if (pcb->state != LISTEN)
		return ERR_OK;
	for (size_t i = 0; i < FILTERS_MAX; i++) {
		if (filters[i].listener != pcb)
			continue;
		uint32_t ip = lwip_ntohl(ip4_addr_get_u32(ip4_current_src_addr()));
		if (filters[i].admits(filters[i].ctx, ip))
			return ERR_OK;
		dropped++;
		refuse(hdr, p);
		return ERR_ABRT;
	}
	const struct stats_mem *pcbs = lwip_stats.memp[MEMP_TCP_PCB];
	if (pcbs && pcbs->used + PCBS_KEPT_FOR_PEERS >= MEMP_NUM_TCP_PCB) {
		dropped++;
		return ERR_ABRT;
	}
	return ERR_OK;
}
