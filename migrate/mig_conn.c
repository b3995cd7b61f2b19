/* Migration connections over lwIP; see mig_conn.h. */
#include "migrate/mig_conn.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "lwip/tcp.h"
#include "migrate/mig_tls.h"
#include "net/net.h"

/* Ciphertext the peer may send before TLS reads it: the window, and the
 * record being read. */
#define RAW_CAP (TCP_WND + 32 * 1024)

/* The window reopens only as whole records are consumed, so a record must
 * fit in the window, or both ends would wait for ever. */
_Static_assert(MIG_CONN_OUT_CAP <= TCP_WND, "migration records must fit the TCP window");

static void fail(struct mig_conn *c, const char *why)
{
	if (!c->failed) {
		c->failed = true;
		str_copy(c->error, why, sizeof(c->error));
	}
}

/* Opens the receive window by what this side consumed. */
static void recved(struct mig_conn *c, size_t len)
{
	for (size_t left = len; c->pcb && left;) {
		u16_t n = left > 0xffff ? 0xffff : (u16_t)left;
		tcp_recved(c->pcb, n);
		left -= n;
	}
}

static void on_err(void *arg, err_t err)
{
	struct mig_conn *c = arg;

	if (!c)
		return; /* detached before lwIP gave up the pcb */
	c->pcb = NULL; /* lwIP freed it */
	if (!c->connected && err == ERR_RST) {
		fail(c, "refused by the destination (not listening there, or this instance is "
			"not one of its peers)");
		return;
	}
	fail(c, err == ERR_RST ? "connection reset by the peer"
			       /* lwIP aborts when keepalive probes or retransmissions
				* go unanswered (our own aborts detach first) */
			       : err == ERR_ABRT ? "the peer stopped answering (connection aborted)"
						 : "connection lost");
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct mig_conn *c = arg;

	(void)pcb;
	if (!p || err != ERR_OK) {
		if (p)
			pbuf_free(p);
		/* What arrived before the close (a TLS alert saying why) is read
		 * first: its reason is the better one (tls_recv). */
		if (!p && c->tls && rx_window_unread(&c->raw))
			c->peer_closed = true;
		else
			fail(c, "the peer closed the connection");
		return ERR_OK;
	}
	if (c->tls) {
		/* Ciphertext waits for TLS, which reads it as the plaintext
		 * buffer has room; the window opens as it does (tls_recv). */
		uint8_t *at = rx_window_space(&c->raw, p->tot_len);

		if (!at) {
			pbuf_free(p);
			fail(c, "the peer sent more than the receive window");
			return ERR_OK;
		}
		pbuf_copy_partial(p, at, p->tot_len, 0);
		rx_window_fill(&c->raw, p->tot_len);
		if (c->first_len < sizeof(c->first)) {
			size_t n = sizeof(c->first) - c->first_len;

			pbuf_copy_partial(p, c->first + c->first_len, (u16_t)n, 0);
			c->first_len += n < p->tot_len ? n : p->tot_len;
		}
		c->bytes_in += p->tot_len;
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->in_len + p->tot_len > c->in_cap) {
		/* More than a record plus a window: the peer ignores flow
		 * control. Refuse the stream rather than grow without bound. */
		pbuf_free(p);
		fail(c, "the peer sent more than the receive buffer holds");
		return ERR_OK;
	}
	pbuf_copy_partial(p, c->in + c->in_len, p->tot_len, 0);
	c->in_len += p->tot_len;
	c->bytes_in += p->tot_len;
	/* The window opens again only as records are consumed (drop_consumed),
	 * so what the sender sees acknowledged is what this side processed. */
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct mig_conn *c = arg;

	(void)pcb;
	c->bytes_acked += len;
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct mig_conn *c = arg;

	(void)pcb;
	if (err == ERR_OK)
		c->connected = true;
	return ERR_OK;
}

static void hook(struct mig_conn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_err(pcb, on_err);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_nagle_disable(pcb);
	/* Never the connection lwIP recycles when a flood exhausts its PCBs. */
	tcp_setprio(pcb, TCP_PRIO_MAX);
	/* A peer that vanished (link cut, crash) is noticed even when this
	 * side has nothing to send: probes after 4 s of silence, one a second,
	 * and the connection errs after 5 unanswered, within the source's own
	 * 10 s stall bound. */
	ip_set_option(pcb, SOF_KEEPALIVE);
	pcb->keep_idle = 4000;
	pcb->keep_intvl = 1000;
	pcb->keep_cnt = 5;
}

/* The pipe under TLS: lwIP's send buffer out, the ciphertext buffer in. */
static int tls_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct mig_conn *c = ctx;

	if (c->failed || !c->pcb)
		return -1;
	size_t room = net_tcp_write_room(c->pcb, 1);
	if (len > room)
		len = room;
	if (len > 0xffff)
		len = 0xffff;
	if (!len)
		return 0;
	err_t e = tcp_write(c->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
	if (e == ERR_MEM)
		return 0;
	if (e != ERR_OK)
		return -1;
	c->bytes_out += len;
	return (int)len;
}

static int tls_recv(void *ctx, uint8_t *buf, size_t len)
{
	struct mig_conn *c = ctx;
	if (!rx_window_unread(&c->raw)) {
		if (c->peer_closed)
			fail(c, "the peer closed the connection");
		return c->failed || !c->pcb ? -1 : 0;
	}
	len = rx_window_read(&c->raw, buf, len);
	recved(c, len);
	c->ack_due = true;
	return (int)len;
}

int mig_conn_secure(struct mig_conn *c, int role, const uint8_t *psk, size_t psk_len,
		    const char *identity, char *err, size_t errlen)
{
	c->raw = (struct rx_window){ .buf = kmalloc(RAW_CAP), .cap = RAW_CAP };
	if (!c->raw.buf) {
		str_copy(err, "out of memory for the TLS buffers", errlen);
		return -1;
	}
	c->tls = mig_tls_new((enum mig_tls_role)role, psk, psk_len, identity, tls_send, tls_recv,
			     c, err, errlen);
	if (!c->tls) {
		kfree(c->raw.buf);
		c->raw.buf = NULL;
		return -1;
	}
	return 0;
}

/* A handshake that fails on a plaintext stream header names the cause. */
static void tls_failed(struct mig_conn *c)
{
	char why[sizeof(c->error)];

	if (c->first_len >= 5 && !memcmp(c->first, MIG_MAGIC, 5))
		str_copy(why, "the peer speaks plaintext (migrate_insecure=1 there?), this side "
			 "requires TLS", sizeof(why));
	else
		fmt_snprintf(why, sizeof(why), "%s", mig_tls_error(c->tls));
	fail(c, why);
}

/* Plaintext into the record buffer as it has room. A peer that closed
 * may have sent its last record (a REJECT) just before: what arrived is
 * still decrypted, so the reader sees that record and not only the close. */
static void tls_pump_in(struct mig_conn *c)
{
	while (c->tls_up && c->tls && c->in_len < c->in_cap) {
		int n = mig_tls_read(c->tls, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0) {
			if (!c->failed)
				tls_failed(c);
			return;
		}
		if (!n)
			return;
		c->in_len += (size_t)n;
	}
}

static bool tls_flush(struct mig_conn *c)
{
	if (!c->tls_up) {
		int h = mig_tls_handshake(c->tls);
		if (h < 0)
			tls_failed(c);
		c->tls_up = h == 1;
	}
	while (c->tls_up && !c->failed && c->out_pos < c->out_len) {
		int n = mig_tls_write(c->tls, c->out + c->out_pos, c->out_len - c->out_pos);
		if (n < 0)
			tls_failed(c);
		if (n <= 0)
			break;
		c->out_pos += (size_t)n;
	}
	tls_pump_in(c);
	if (c->pcb) {
		if (c->ack_due) {
			c->pcb->flags |= TF_ACK_NOW;
			c->ack_due = false;
		}
		tcp_output(c->pcb);
	}
	return mig_conn_idle(c);
}

bool mig_conn_init(struct mig_conn *c, size_t in_cap)
{
	*c = (struct mig_conn){ .in_cap = in_cap };
	c->out = kmalloc(MIG_CONN_OUT_CAP);
	c->in = kmalloc(in_cap);
	if (!c->out || !c->in) {
		kfree(c->out);
		kfree(c->in);
		c->out = c->in = NULL;
		return false;
	}
	return true;
}

bool mig_conn_connect(struct mig_conn *c, uint32_t dst, uint16_t port)
{
	ip_addr_t addr;
	struct tcp_pcb *pcb = tcp_new();

	if (!pcb) {
		fail(c, "out of memory for a connection");
		return false;
	}
	hook(c, pcb);
	c->peer = dst;
	ip_addr_set_ip4_u32_val(addr, lwip_htonl(dst));
	if (tcp_connect(pcb, &addr, port, on_connected) != ERR_OK) {
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL); /* tcp_abort calls it */
		tcp_abort(pcb);
		c->pcb = NULL;
		fail(c, "no interface has a route to that address");
		return false;
	}
	return true;
}

void mig_conn_attach(struct mig_conn *c, struct tcp_pcb *pcb)
{
	hook(c, pcb);
	c->connected = true;
	c->peer = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
}

void mig_conn_close(struct mig_conn *c, bool abort)
{
	struct tcp_pcb *pcb = c->pcb;

	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		/* lwIP resets instead of closing while received data is unread:
		 * account for everything first so a graceful close stays one. */
		for (size_t left = c->tls ? rx_window_unread(&c->raw) : c->in_len; !abort && left;) {
			u16_t n = left > 0xffff ? 0xffff : (u16_t)left;
			tcp_recved(pcb, n);
			left -= n;
		}
		if (abort || tcp_close(pcb) != ERR_OK)
			tcp_abort(pcb);
		c->pcb = NULL;
	}
	kfree(c->out);
	kfree(c->in);
	kfree(c->raw.buf);
	mig_tls_free(c->tls);
	c->tls = NULL;
	c->tls_up = false;
	c->out = c->in = NULL;
	c->raw = (struct rx_window){ 0 };
	c->out_len = c->out_pos = c->in_len = c->in_drop = 0;
}

void mig_conn_stage(struct mig_conn *c, uint32_t type, uint32_t len)
{
	if (type) {
		mig_record_header(c->out, type, mig_conn_body(c), len);
		c->out_pos = 0;
	} else {
		c->out_pos = MIG_RECORD_HDR_LEN; /* raw bytes: skip the header slot */
	}
	c->out_len = MIG_RECORD_HDR_LEN + len;
}

void mig_conn_stage_copy(struct mig_conn *c, uint32_t type, const void *body, uint32_t len)
{
	memcpy(mig_conn_body(c), body, len);
	mig_conn_stage(c, type, len);
}

bool mig_conn_flush(struct mig_conn *c)
{
	if (c->failed || !c->pcb || !c->connected)
		return mig_conn_idle(c);
	if (c->tls)
		return tls_flush(c);
	bool pushed = false;
	while (c->out_pos < c->out_len) {
		size_t room = net_tcp_write_room(c->pcb, 1);
		size_t n = c->out_len - c->out_pos;
		if (n > room)
			n = room;
		if (n > 0xffff)
			n = 0xffff;
		if (!n)
			break;
		err_t e = tcp_write(c->pcb, c->out + c->out_pos, (u16_t)n,
				    TCP_WRITE_FLAG_COPY | (n < c->out_len - c->out_pos
							   ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			fail(c, "cannot queue data on the connection");
			break;
		}
		c->out_pos += n;
		c->bytes_out += n;
		pushed = true;
	}
	if (c->ack_due) {
		/* Records are few and large: acknowledging at once keeps the
		 * sender's window moving instead of waiting for lwIP's delayed
		 * ACK (250 ms), which would stall the stop-and-copy hand-over. */
		c->pcb->flags |= TF_ACK_NOW;
		c->ack_due = false;
		pushed = true;
	}
	if (pushed)
		tcp_output(c->pcb);
	return mig_conn_idle(c);
}

/* The record handed out last time stays in place until the next call. */
static void drop_consumed(struct mig_conn *c)
{
	if (c->in_drop) {
		memmove(c->in, c->in + c->in_drop, c->in_len - c->in_drop);
		c->in_len -= c->in_drop;
		if (!c->tls) {
			recved(c, c->in_drop);
			c->ack_due = true;
		}
		c->in_drop = 0;
	}
	if (c->tls)
		tls_pump_in(c);
}

int mig_conn_next_record(struct mig_conn *c, struct mig_record *r, char *err, size_t errlen)
{
	drop_consumed(c);
	long n = mig_record_decode(c->in, c->in_len, MIG_MAX_BODY, r, err, errlen);
	if (n <= 0)
		return (int)n;
	c->in_drop = (size_t)n;
	return 1;
}

bool mig_conn_take(struct mig_conn *c, void *out, size_t len)
{
	drop_consumed(c);
	if (c->in_len < len)
		return false;
	memcpy(out, c->in, len);
	c->in_drop = len;
	drop_consumed(c);
	return true;
}
