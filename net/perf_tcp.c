/* TCP bulk throughput: a sink that counts and checksums what arrives, and
 * a sender that streams a fixed pseudo-random pattern (sent without a copy:
 * lwIP references the static pattern until it is acknowledged). */
#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/stream_sum.h"
#include "hv/lib/string.h"
#include "lwip/tcp.h"
#include "net/net.h"
#include "net/perf.h"

#define PATTERN_LEN 65521 /* prime: the stream does not repeat on a power of two */
#define CONNECT_TIMEOUT_NS (5 * NS_PER_SEC)
#define DRAIN_TIMEOUT_NS (20 * NS_PER_SEC)

static uint8_t pattern[PATTERN_LEN];

static struct tcp_pcb *listener;
static uint16_t listen_port;
static struct perf_result received;
static struct stream_sum received_sum;
static struct tcp_pcb *receiving;

static void make_pattern(void)
{
	uint32_t x = 0x12345678;

	if (pattern[0] | pattern[1])
		return;
	for (size_t i = 0; i < PATTERN_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)x;
	}
}

uint64_t net_perf_kbits(const struct perf_result *r)
{
	return r->ns ? r->bytes * 8 * 1000000 / r->ns : 0;
}

/* ---- sink ----------------------------------------------------------- */

static void sink_finish(bool failed, const char *why)
{
	received.done = true;
	received.failed = failed;
	received.checksum = stream_sum_value(&received_sum);
	if (why)
		str_copy(received.error, why, sizeof(received.error));
	receiving = NULL;
}

static err_t sink_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (pcb != receiving) { /* an older connection's leftovers */
		if (p)
			pbuf_free(p);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (!p || err != ERR_OK) {
		received.ns = time_ns() - received.start_ns;
		sink_finish(err != ERR_OK, err != ERR_OK ? "receive error" : NULL);
		if (p)
			pbuf_free(p);
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_err(pcb, NULL);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		stream_sum_update(&received_sum, q->payload, q->len);
	received.bytes += p->tot_len;
	received.checksum = stream_sum_value(&received_sum);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void sink_error(void *arg, err_t err)
{
	(void)arg;
	(void)err;
	if (!received.done) {
		received.ns = time_ns() - received.start_ns;
		sink_finish(true, "connection lost before the sender finished");
	}
}

static err_t sink_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (receiving) {
		tcp_abort(pcb); /* one transfer at a time: refuse the second */
		return ERR_ABRT;
	}
	receiving = pcb;
	received = (struct perf_result){ .start_ns = time_ns(),
					 .peer = lwip_ntohl(ip4_addr_get_u32(&pcb->remote_ip)) };
	stream_sum_init(&received_sum);
	tcp_recv(pcb, sink_recv);
	tcp_err(pcb, sink_error);
	return ERR_OK;
}

bool net_perf_listen(uint16_t port, char *err, size_t errlen)
{
	if (listener) {
		tcp_close(listener);
		listener = NULL;
	}
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		fmt_snprintf(err, errlen, "out of memory");
		return false;
	}
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		tcp_close(pcb);
		fmt_snprintf(err, errlen, "port %u is in use", port);
		return false;
	}
	listener = tcp_listen(pcb);
	if (!listener) {
		tcp_close(pcb);
		fmt_snprintf(err, errlen, "out of memory");
		return false;
	}
	tcp_accept(listener, sink_accept);
	listen_port = port;
	return true;
}

bool net_perf_listening(uint16_t *port)
{
	*port = listen_port;
	return listener != NULL;
}

const struct perf_result *net_perf_tcp_received(void)
{
	return &received;
}

/* ---- sender --------------------------------------------------------- */

struct sender {
	struct tcp_pcb *pcb;
	bool connected, failed;
	const char *why;
	uint64_t written, acked;
	uint64_t pos; /* stream position, selects the pattern offset */
};

static err_t sender_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)pcb;
	struct sender *s = arg;

	s->connected = err == ERR_OK;
	return ERR_OK;
}

static err_t sender_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	((struct sender *)arg)->acked += len;
	return ERR_OK;
}

static void sender_error(void *arg, err_t err)
{
	struct sender *s = arg;

	s->failed = true;
	s->pcb = NULL; /* lwIP freed it */
	s->why = err == ERR_RST ? "connection reset by the peer" :
		 err == ERR_ABRT ? "connection aborted" : "connection timed out or refused";
}

static void fill_window(struct sender *s, struct stream_sum *sum)
{
	size_t room;

	/* Referenced data: a header pbuf and a data pbuf per segment. */
	while (s->pcb && (room = net_tcp_write_room(s->pcb, 2)) > 0) {
		size_t off = s->pos % PATTERN_LEN;
		size_t n = PATTERN_LEN - off;
		if (n > room)
			n = room;
		if (n > 0xffff)
			n = 0xffff;
		if (tcp_write(s->pcb, pattern + off, (u16_t)n, TCP_WRITE_FLAG_MORE) != ERR_OK)
			break; /* queue full: wait for acknowledgements */
		stream_sum_update(sum, pattern + off, n);
		s->pos += n;
		s->written += n;
	}
	if (s->pcb)
		tcp_output(s->pcb);
}

/* Opens the connection, waiting up to CONNECT_TIMEOUT_NS: NULL, or why not
 * (nothing is left open then). */
static const char *open_connection(struct sender *s, uint32_t dst, uint16_t port)
{
	ip_addr_t addr;

	ip_addr_set_ip4_u32_val(addr, lwip_htonl(dst));
	s->pcb = tcp_new();
	if (!s->pcb)
		return "out of memory";
	tcp_arg(s->pcb, s);
	tcp_err(s->pcb, sender_error);
	tcp_sent(s->pcb, sender_sent);
	tcp_nagle_disable(s->pcb);
	if (tcp_connect(s->pcb, &addr, port, sender_connected) != ERR_OK) {
		tcp_abort(s->pcb);
		return "no interface has a route to that address";
	}
	uint64_t deadline = time_ns() + CONNECT_TIMEOUT_NS;
	while (!s->connected && !s->failed && time_ns() < deadline)
		mainloop_poll(true);
	if (s->connected)
		return NULL;
	if (s->pcb)
		tcp_abort(s->pcb);
	return s->failed ? s->why : "connection timed out";
}

void net_perf_send(uint32_t dst, uint16_t port, unsigned seconds, struct perf_result *out)
{
	struct sender s = { 0 };
	struct stream_sum sum;

	*out = (struct perf_result){ .peer = dst };
	make_pattern();
	stream_sum_init(&sum);
	const char *why = open_connection(&s, dst, port);
	if (why) {
		out->failed = out->done = true;
		str_copy(out->error, why, sizeof(out->error));
		return;
	}

	uint64_t start = time_ns(), end = start + (uint64_t)seconds * NS_PER_SEC;
	out->start_ns = start;
	while (!s.failed && time_ns() < end) {
		fill_window(&s, &sum);
		mainloop_poll(false);
	}
	/* Everything written must be acknowledged before we call it done. */
	uint64_t deadline = time_ns() + DRAIN_TIMEOUT_NS;
	while (!s.failed && s.acked < s.written && time_ns() < deadline) {
		if (s.pcb)
			tcp_output(s.pcb);
		mainloop_poll(true);
	}
	out->ns = time_ns() - start;
	out->bytes = s.acked;
	out->checksum = stream_sum_value(&sum);
	out->done = true;
	if (!s.failed && s.acked < s.written) {
		s.failed = true;
		s.why = "peer did not acknowledge everything in time";
	}
	if (s.pcb) {
		/* The callbacks point at this stack frame: detach them first. */
		tcp_arg(s.pcb, NULL);
		tcp_err(s.pcb, NULL);
		tcp_sent(s.pcb, NULL);
		if (s.failed || tcp_close(s.pcb) != ERR_OK)
			tcp_abort(s.pcb);
	}
	if (s.failed) {
		out->failed = true;
		str_copy(out->error, s.why, sizeof(out->error));
	}
}
