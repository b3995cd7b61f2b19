/* The destination side of `disk send`; see disk_xfer.h. */
#include <stdarg.h>

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "migrate/mig_channel.h"
#include "migrate/mig_watchdog.h"
#include "migrate/disk_rx.h"
#include "migrate/disk_xfer.h"
#include "migrate/mig_conn.h"
#include "migrate/mig_listen.h"
#include "net/net_addr.h"

#define RECORDS_PER_POLL 64
#define CLOSE_TIMEOUT_NS (10 * NS_PER_SEC)

static struct {
	struct mig_listener listener;
	struct disk_xfer_status st;
	struct mig_conn conn;
	struct disk_rx rx;
	bool active, have_header, offered, closing;
	uint64_t closing_ns;
	struct mig_watchdog wd;
} X;

const struct disk_xfer_status *disk_receive_status(void)
{
	return &X.st;
}

bool disk_receive_listening(uint16_t *port)
{
	*port = X.listener.port;
	return X.listener.pcb != NULL;
}

/* Ends the transfer, telling the source why when it can still hear. */
static void rx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rx_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(X.st.reason, sizeof(X.st.reason), fmt, ap);
	va_end(ap);
	X.st.phase = DX_FAILED;
	X.st.end_ns = time_ns();
	if (X.rx.used) {
		bool drop = X.rx.full;
		disk_rx_abandon(&X.rx, drop);
		log_warn("disk receive %s: failed: %s; %s", X.st.as, X.st.reason,
			 drop ? "its fragment was dropped (the datastore is full)"
			      : "the fragment is kept for a resume");
	} else {
		log_warn("disk receive: failed: %s", X.st.reason);
	}
	if (!X.conn.failed && X.conn.pcb && mig_conn_idle(&X.conn)) {
		mig_conn_stage_copy(&X.conn, MIG_REC_REJECT, X.st.reason,
				    (uint32_t)strlen(X.st.reason));
		X.closing = true;
	} else {
		mig_conn_close(&X.conn, true);
		X.active = false;
	}
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	uint32_t ip = mig_remote_ip(pcb);
	char addr[16];
	net_addr_format(ip, addr);
	if (!mig_listener_admits(&X.listener, ip)) {
		log_warn("disk receive: refused a connection from %s (not a configured peer)", addr);
		return mig_refuse(pcb, "this instance does not accept disks from you");
	}
	if (X.active && X.closing && X.st.peer == ip) {
		mig_conn_close(&X.conn, true);
		X.active = false;
	} else if (X.active && X.st.peer == ip) {
		/* The source started over: its old transfer is dead (the fragment
		 * is kept, and the new one resumes it). */
		X.conn.failed = true;
		rx_fail("superseded by a new connection from the same peer");
	}
	if (X.active)
		return mig_refuse(pcb, "busy with another incoming disk");
	if (!mig_conn_init(&X.conn, MIG_CONN_IN_CAP))
		return mig_refuse(pcb, "out of memory for the transfer buffers");
	mig_conn_attach(&X.conn, pcb);
	char why[160];
	if (mig_channel_open(&X.conn, MIG_TLS_SERVER, why, sizeof(why))) {
		log_warn("disk receive: refused %s: %s", addr, why);
		mig_conn_close(&X.conn, true);
		return ERR_ABRT;
	}
	X.active = true;
	X.have_header = X.offered = X.closing = false;
	X.closing_ns = 0;
	memset(&X.rx, 0, sizeof(X.rx));
	memset(&X.st, 0, sizeof(X.st));
	X.st.phase = DX_RUNNING;
	X.st.peer = ip;
	X.st.port = X.listener.port;
	X.st.start_ns = time_ns();
	mig_watchdog_phase(&X.wd, "the transfer's start (header, DISK_OFFER)", false,
			   X.st.start_ns, 0, 0);
	return ERR_OK;
}

int disk_receive_listen(uint16_t port, const uint32_t *peers, size_t npeers, char *err,
			size_t errlen)
{
	return mig_listen(&X.listener, port, peers, npeers, on_accept, err, errlen);
}

void disk_receive_unlisten(void)
{
	mig_unlisten(&X.listener);
}

static void got_offer(const struct mig_record *r)
{
	struct mig_disk_offer o;
	struct mig_disk_accept a;
	char err[160];

	if (X.offered || mig_disk_offer_decode(r->body, r->len, &o, err, sizeof(err))) {
		rx_fail("%s", X.offered ? "a second DISK_OFFER" : err);
		return;
	}
	if (o.index != 0 || (o.flags & MIG_DISK_SHARED)) {
		rx_fail("a disk transfer offers disk 0 alone, not shared");
		return;
	}
	X.offered = true;
	str_copy(X.st.as, o.name, sizeof(X.st.as));
	str_copy(X.st.disk, o.name, sizeof(X.st.disk));
	if (disk_rx_offer(&X.rx, &o, &a, err, sizeof(err))) {
		rx_fail("%s", err);
		return;
	}
	X.st.resumed_at = a.offset;
	X.st.base_skipped = a.base != MIG_DISK_NO_BASE;
	X.st.bytes_total = o.size;
	mig_conn_stage(&X.conn, MIG_REC_DISK_ACCEPT, mig_disk_accept_encode(&a, mig_conn_body(&X.conn)));
	mig_watchdog_phase(&X.wd, "the transfer", true, time_ns(), X.conn.bytes_in,
			   X.conn.bytes_out);
}

static void got_end(const struct mig_record *r)
{
	struct mig_disk_end e;
	char err[160];

	if (mig_disk_end_decode(r->body, r->len, &e, err, sizeof(err)) ||
	    disk_rx_end(&X.rx, &e, err, sizeof(err))) {
		rx_fail("%s", err);
		return;
	}
	store_disk_close(X.rx.frag);
	X.rx.frag = NULL;
	if (disk_rx_finish(&X.rx, 1, err, sizeof(err))) {
		rx_fail("%s", err);
		return;
	}
	X.rx.used = false;
	X.st.phase = DX_DONE;
	X.st.end_ns = time_ns();
	X.st.bytes_sent = X.rx.bytes_written;
	mig_conn_stage(&X.conn, MIG_REC_DISK_DONE, mig_disk_index_encode(0, mig_conn_body(&X.conn)));
	X.closing = true;
	char addr[16];
	net_addr_format(X.st.peer, addr);
	log_info("disk receive %s: arrived from %s (%lu bytes written, resumed at %lu)", X.st.as,
		 addr, (unsigned long)X.rx.bytes_written, (unsigned long)X.st.resumed_at);
}

static void handle(const struct mig_record *r)
{
	char err[160], name[24];
	int rc = 0;

	if (r->type != MIG_REC_DISK_OFFER && r->type != MIG_REC_ABORT && !X.offered &&
	    !(r->type & MIG_TYPE_OPTIONAL)) {
		rx_fail("%s record before DISK_OFFER", mig_record_name(r->type, name, sizeof(name)));
		return;
	}
	switch (r->type) {
	case MIG_REC_DISK_OFFER:
		got_offer(r);
		return;
	case MIG_REC_DISK_START: {
		struct mig_disk_start st;
		rc = mig_disk_start_decode(r->body, r->len, &st, err, sizeof(err));
		if (!rc && st.index)
			rc = -1, fmt_snprintf(err, sizeof(err), "DISK_START for disk %u", st.index);
		if (!rc)
			rc = disk_rx_start(&X.rx, &st, err, sizeof(err));
		X.st.resumed_at = X.rx.resumed_at;
		break;
	}
	case MIG_REC_DISK_BLOCKS: {
		struct mig_disk_blocks_reader rd;
		rc = mig_disk_blocks_open(&rd, r->body, r->len, err, sizeof(err));
		if (!rc && rd.index)
			rc = -1, fmt_snprintf(err, sizeof(err), "DISK_BLOCKS for disk %u", rd.index);
		if (!rc)
			rc = disk_rx_blocks(&X.rx, &rd, err, sizeof(err));
		X.st.bytes_sent = X.rx.bytes_written;
		break;
	}
	case MIG_REC_DISK_BULK_END: {
		uint32_t index;
		rc = mig_disk_index_decode(r->body, r->len, &index, err, sizeof(err));
		if (!rc)
			rc = disk_rx_bulk_end(&X.rx, err, sizeof(err));
		break;
	}
	case MIG_REC_DISK_END:
		got_end(r);
		return;
	case MIG_REC_ABORT:
		rx_fail("the source gave up");
		return;
	default:
		if (!(r->type & MIG_TYPE_OPTIONAL))
			rc = -1, fmt_snprintf(err, sizeof(err), "unexpected %s record in a disk transfer",
					      mig_record_name(r->type, name, sizeof(name)));
		break;
	}
	if (rc)
		rx_fail("%s", err);
}

static void take_header(void)
{
	uint8_t hdr[MIG_HEADER_LEN];
	struct mig_header h;
	char err[100];

	if (!mig_conn_take(&X.conn, hdr, sizeof(hdr)))
		return;
	if (mig_header_decode(hdr, sizeof(hdr), &h, err, sizeof(err))) {
		rx_fail("%s", err);
		return;
	}
	if (!(h.flags & MIG_HDR_DISK_ONLY)) {
		rx_fail("a VM migration came to the disk port (use migrate listen)");
		return;
	}
	X.have_header = true;
}

bool disk_receive_poll(void)
{
	if (!X.active)
		return false;
	if (X.conn.out)
		str_copy(X.st.channel, mig_channel_name(&X.conn), sizeof(X.st.channel));
	if (X.closing) {
		if (!X.closing_ns)
			X.closing_ns = time_ns();
		bool out = mig_conn_flush(&X.conn) && !mig_conn_unacked(&X.conn);
		if (out || X.conn.failed || time_ns() - X.closing_ns > CLOSE_TIMEOUT_NS) {
			mig_conn_close(&X.conn, X.conn.failed);
			X.active = false;
		}
		return X.active;
	}
	mig_conn_flush(&X.conn);
	if (!X.have_header)
		take_header();
	for (int i = 0; X.have_header && i < RECORDS_PER_POLL && X.active && !X.closing; i++) {
		struct mig_record r;
		char err[120];
		if (!mig_conn_idle(&X.conn))
			break;
		int rc = mig_conn_next_record(&X.conn, &r, err, sizeof(err));
		if (rc < 0)
			rx_fail("%s", err);
		if (rc <= 0)
			break;
		handle(&r);
		mig_conn_flush(&X.conn);
	}
	if (X.active && !X.closing) {
		struct mig_limits lim;
		char why[160];
		mig_limits_current(&lim);
		X.st.wire_bytes = X.conn.bytes_in;
		if (X.conn.failed) {
			rx_fail("%s", X.conn.error);
		} else if (mig_watchdog_check(&X.wd, &lim, time_ns(), X.conn.bytes_in,
					      X.conn.bytes_out, why, sizeof(why))) {
			X.conn.failed = true;
			rx_fail("%s", why);
		}
	}
	return X.active;
}
