/* ping over a raw ICMP PCB: echo requests carry our identifier, a sequence
 * number and the send time; replies with another identifier are left to
 * lwIP. */
#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "net/net.h"
#include "net/ping.h"

#define PING_PAYLOAD 56
#define MAX_OUTSTANDING 64

struct ping_run {
	uint16_t id;
	uint64_t sent_ns[MAX_OUTSTANDING]; /* by seq % MAX_OUTSTANDING, 0 = answered */
	unsigned seq_base;
	unsigned sent;
	struct ping_stats *stats;
	ping_report_fn report;
	void *ctx;
};

static void record_reply(struct ping_run *r, unsigned seq, uint64_t now)
{
	if (seq >= r->sent || r->sent - seq > MAX_OUTSTANDING)
		return; /* not one of ours, or too old */
	uint64_t *slot = &r->sent_ns[seq % MAX_OUTSTANDING];
	if (!*slot)
		return; /* duplicate */
	uint64_t rtt = now - *slot;
	*slot = 0;
	struct ping_stats *s = r->stats;
	if (!s->received || rtt < s->rtt_min_ns)
		s->rtt_min_ns = rtt;
	if (rtt > s->rtt_max_ns)
		s->rtt_max_ns = rtt;
	s->rtt_sum_ns += rtt;
	s->received++;
	r->report(r->ctx, seq + 1, true, rtt);
}

static u8_t on_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	(void)pcb;
	(void)addr;
	struct ping_run *r = arg;
	struct icmp_echo_hdr echo;

	if (p->tot_len < IP_HLEN)
		return 0;
	uint8_t vhl = pbuf_get_at(p, 0);
	uint16_t hlen = (uint16_t)((vhl & 0x0f) * 4);
	if (hlen < IP_HLEN || p->tot_len < hlen + sizeof(echo) ||
	    pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo))
		return 0;
	if (echo.type != ICMP_ER || echo.id != lwip_htons(r->id))
		return 0;
	record_reply(r, lwip_ntohs(echo.seqno), time_ns());
	pbuf_free(p);
	return 1;
}

static bool send_echo(struct raw_pcb *pcb, struct ping_run *r, const ip_addr_t *dst)
{
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_PAYLOAD, PBUF_RAM);

	if (!p)
		return false;
	struct icmp_echo_hdr *h = p->payload;
	uint8_t *data = (uint8_t *)(h + 1);
	h->type = ICMP_ECHO;
	h->code = 0;
	h->chksum = 0;
	h->id = lwip_htons(r->id);
	h->seqno = lwip_htons((uint16_t)r->sent);
	for (unsigned i = 0; i < PING_PAYLOAD; i++)
		data[i] = (uint8_t)i;
	h->chksum = inet_chksum(h, p->len);
	r->sent_ns[r->sent % MAX_OUTSTANDING] = time_ns();
	err_t e = raw_sendto(pcb, p, dst);
	pbuf_free(p);
	if (e != ERR_OK) {
		r->sent_ns[r->sent % MAX_OUTSTANDING] = 0;
		return false;
	}
	r->sent++;
	r->stats->sent++;
	return true;
}

/* Reports the echoes sent before 'cutoff' that got no reply. */
static void expire(struct ping_run *r, uint64_t cutoff)
{
	unsigned first = r->sent > MAX_OUTSTANDING ? r->sent - MAX_OUTSTANDING : 0;

	for (unsigned seq = first; seq < r->sent; seq++) {
		uint64_t *slot = &r->sent_ns[seq % MAX_OUTSTANDING];
		if (*slot && *slot < cutoff) {
			*slot = 0;
			r->report(r->ctx, seq + 1, false, 0);
		}
	}
}

bool net_ping(uint32_t dst, unsigned count, unsigned interval_ms, unsigned timeout_ms,
	      ping_report_fn report, void *ctx, struct ping_stats *stats, char *err,
	      size_t errlen)
{
	static uint16_t next_id = 0x4856; /* "HV" */
	struct ping_run r = { .id = next_id++, .stats = stats, .report = report, .ctx = ctx };
	ip_addr_t target;

	*stats = (struct ping_stats){ 0 };
	if (!net_if_for(dst)) {
		fmt_snprintf(err, errlen, "no interface has a route to that address");
		return false;
	}
	ip_addr_set_ip4_u32_val(target, lwip_htonl(dst));
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	if (!pcb) {
		fmt_snprintf(err, errlen, "out of memory");
		return false;
	}
	raw_recv(pcb, on_icmp, &r);

	uint64_t interval = (uint64_t)interval_ms * NS_PER_MS;
	uint64_t timeout = (uint64_t)timeout_ms * NS_PER_MS;
	uint64_t next_send = time_ns();
	bool ok = true;
	for (;;) {
		uint64_t now = time_ns();
		if (r.sent < count && now >= next_send) {
			if (!send_echo(pcb, &r, &target)) {
				/* No ARP answer yet counts as a lost echo, not an error. */
				r.sent++;
				stats->sent++;
				report(ctx, r.sent, false, 0);
			}
			next_send += interval;
		}
		expire(&r, now > timeout ? now - timeout : 0);
		bool pending = false;
		for (unsigned i = 0; i < MAX_OUTSTANDING; i++)
			pending |= r.sent_ns[i] != 0;
		if (r.sent == count && !pending)
			break;
		mainloop_poll(true);
	}
	raw_remove(pcb);
	return ok;
}
