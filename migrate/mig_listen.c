/* Listeners for migration peers; see mig_listen.h. */
#include "migrate/mig_listen.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "migrate/stream.h"
#include "net/net.h"

bool mig_listener_admits(const struct mig_listener *l, uint32_t ip)
{
	for (size_t i = 0; i < l->npeers; i++)
		if (l->peers[i] == ip)
			return true;
	return false;
}

static bool admits_peer(const void *ctx, uint32_t ip)
{
	return mig_listener_admits(ctx, ip);
}

uint32_t mig_remote_ip(const struct tcp_pcb *pcb)
{
	return lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
}

err_t mig_refuse(struct tcp_pcb *pcb, const char *why)
{
	uint8_t buf[MIG_RECORD_HDR_LEN + 120];
	uint32_t len = mig_text_encode(buf + MIG_RECORD_HDR_LEN, 120, why);

	mig_record_header(buf, MIG_REC_REJECT, buf + MIG_RECORD_HDR_LEN, len);
	tcp_arg(pcb, NULL);
	if (tcp_write(pcb, buf, (u16_t)(MIG_RECORD_HDR_LEN + len), TCP_WRITE_FLAG_COPY) != ERR_OK ||
	    tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

int mig_listen(struct mig_listener *l, uint16_t port, const uint32_t *peers, size_t npeers,
	       tcp_accept_fn on_accept, char *err, size_t errlen)
{
	if (npeers == 0 || npeers > MIGRATE_MAX_PEERS) {
		fmt_snprintf(err, errlen, "give 1-%d peers that may send (from=ADDR,...)",
			     MIGRATE_MAX_PEERS);
		return -1;
	}
	mig_unlisten(l);
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		if (pcb)
			tcp_abort(pcb);
		fmt_snprintf(err, errlen, "cannot listen on port %u (in use?)", port);
		return -1;
	}
	struct tcp_pcb *lp = tcp_listen_with_backlog(pcb, 2);
	if (!lp) {
		tcp_abort(pcb);
		fmt_snprintf(err, errlen, "out of memory for a listener");
		return -1;
	}
	if (!net_syn_filter_set(lp, admits_peer, l)) {
		tcp_close(lp);
		fmt_snprintf(err, errlen, "too many filtered listeners");
		return -1;
	}
	tcp_accept(lp, on_accept);
	l->pcb = lp;
	l->port = port;
	memcpy(l->peers, peers, npeers * sizeof(peers[0]));
	l->npeers = npeers;
	return 0;
}

void mig_unlisten(struct mig_listener *l)
{
	if (l->pcb) {
		net_syn_filter_set(l->pcb, NULL, NULL);
		tcp_accept(l->pcb, NULL);
		tcp_close(l->pcb);
		l->pcb = NULL;
	}
}
