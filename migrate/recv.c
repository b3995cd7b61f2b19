/* The destination side of a live migration; see migrate.h. The VM is
 * built paused from the stream and runs only after the source's GO. This
 * is the connection around it: records go to recv_apply.c, which builds
 * the VM. */
#include <stdarg.h>

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/vm/vm.h"
#include "lwip/tcp.h"
#include "migrate/mig_channel.h"
#include "migrate/mig_conn.h"
#include "migrate/mig_internal.h"
#include "migrate/mig_listen.h"
#include "migrate/mig_watchdog.h"
#include "migrate/migrate.h"
#include "migrate/recv_apply.h"
#include "net/net_addr.h"

#define RECORDS_PER_POLL 64
#define CLOSE_TIMEOUT_NS (10 * NS_PER_SEC)

static struct receiver {
	struct mig_listener listener;
	struct mig_status st;
	struct mig_conn conn;
	bool active;              /* a connection is being served */
	bool have_header;
	bool closing;             /* reply staged: close once it is out */
	uint64_t closing_ns;
	struct mig_watchdog wd;
	struct recv_apply apply;  /* the VM being built */
} R;

const struct mig_status *migrate_incoming(void)
{
	return &R.st;
}

bool migrate_listening(uint16_t *port, const uint32_t **peers, size_t *npeers)
{
	*port = R.listener.port;
	*peers = R.listener.peers;
	*npeers = R.listener.npeers;
	return R.listener.pcb != NULL;
}

/* Drops the partial copy and says why (to the source too, if it listens). */
static void recv_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void recv_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(R.st.error, sizeof(R.st.error), fmt, ap);
	va_end(ap);
	recv_apply_discard(&R.apply);
	R.st.phase = MIG_FAILED;
	R.st.end_ns = time_ns();
	log_warn("migrate: incoming %s discarded: %s", R.st.vm[0] ? R.st.vm : "VM", R.st.error);
	if (!R.conn.failed && R.conn.pcb && mig_conn_idle(&R.conn)) {
		mig_conn_stage_copy(&R.conn, MIG_REC_REJECT, R.st.error, (uint32_t)strlen(R.st.error));
		R.closing = true;
	} else {
		/* A handshake that failed here has queued its alert (a wrong key:
		 * bad_record_mac). A FIN after it lets the source read why; a
		 * reset would often overtake it ("connection reset"). */
		bool handshake = R.conn.pcb && R.conn.tls && !R.conn.tls_up;
		mig_conn_close(&R.conn, !handshake);
		R.active = false;
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
	if (!mig_listener_admits(&R.listener, ip)) {
		log_warn("migrate: refused a connection from %s (not a configured peer)", addr);
		return mig_refuse(pcb, "this instance does not accept migrations from you");
	}
	if (R.active && R.closing && R.st.peer == ip) {
		/* That peer starts over: it is done with the old connection. */
		mig_conn_close(&R.conn, true);
		R.active = false;
	} else if (R.active && R.st.peer == ip) {
		/* A source runs one migration at a time: connecting again, it has
		 * given up on the old one, which must not hold its retry off until
		 * this side's idle timeout. The old VM never ran here. */
		R.conn.failed = true;
		recv_fail("superseded by a new connection from the same peer");
	}
	if (R.active)
		return mig_refuse(pcb, "busy with another incoming migration");
	if (!mig_conn_init(&R.conn, MIG_CONN_IN_CAP))
		return mig_refuse(pcb, "out of memory for the migration buffers");
	mig_conn_attach(&R.conn, pcb);
	char why[160];
	if (mig_channel_open(&R.conn, MIG_TLS_SERVER, why, sizeof(why))) {
		log_warn("migrate: refused %s: %s", addr, why);
		mig_conn_close(&R.conn, true);
		return ERR_ABRT;
	}
	R.active = true;
	R.have_header = R.closing = false;
	R.closing_ns = 0;
	memset(&R.st, 0, sizeof(R.st));
	recv_apply_init(&R.apply, &R.st);
	R.st.phase = MIG_RECEIVING;
	R.st.peer = ip;
	R.st.port = R.listener.port;
	R.st.start_ns = time_ns();
	mig_watchdog_phase(&R.wd, "the stream's start (header, VM_CONFIG)", false, R.st.start_ns,
			   0, 0);
	return ERR_OK;
}

int migrate_listen(uint16_t port, const uint32_t *peers, size_t npeers, char *err,
		   size_t errlen)
{
	return mig_listen(&R.listener, port, peers, npeers, on_accept, err, errlen);
}

void migrate_unlisten(void)
{
	mig_unlisten(&R.listener);
}

/* One record in stream order; the first failure ends the migration. */
static void handle(const struct mig_record *r)
{
	char err[200], addr[16];

	switch (recv_apply_record(&R.apply, r, &R.conn, err, sizeof(err))) {
	case RECV_APPLIED:
		break;
	case RECV_REFUSED:
		recv_fail("%s", err);
		break;
	case RECV_VM_BUILT:
		net_addr_format(R.st.peer, addr);
		mig_watchdog_phase(&R.wd, "the transfer", true, time_ns(), R.conn.bytes_in,
				   R.conn.bytes_out);
		log_info("migrate: receiving VM %s (%lu MiB) from %s", R.st.vm,
			 (unsigned long)(R.apply.vm->mem.size >> 20), addr);
		break;
	case RECV_COMPLETE:
		R.st.phase = MIG_AWAIT_GO;
		mig_watchdog_phase(&R.wd, "the wait for GO", false, time_ns(), R.conn.bytes_in,
				   R.conn.bytes_out);
		mig_conn_stage(&R.conn, MIG_REC_READY, 0);
		break;
	case RECV_ARRIVED:
		R.st.phase = MIG_DONE;
		R.st.end_ns = R.st.resume_ns = time_ns();
		/* The pause's own message took one link delay, which a round
		 * trip (SEED out to the source's next record in) bounds. */
		R.st.downtime_error_ns = R.apply.rtt_ns;
		mig_conn_stage(&R.conn, MIG_REC_RUNNING, 0);
		R.closing = true;
		net_addr_format(R.st.peer, addr);
		log_info("migrate: VM %s arrived from %s and runs here (%lu pages, %lu zero)",
			 R.st.vm, addr, (unsigned long)R.st.pages_sent, (unsigned long)R.st.zero_pages);
		break;
	}
}

static bool recv_poll(void);

/* Its CPU time, as on the source (send.c). */
bool migrate_recv_poll(void)
{
	if (!R.active)
		return false;
	uint64_t t0 = time_ns();
	bool busy = recv_poll();
	R.st.cpu_ns += time_ns() - t0;
	return busy;
}

static bool recv_poll(void)
{
	if (!R.active)
		return false;
	if (R.conn.out)
		str_copy(R.st.channel, mig_channel_name(&R.conn), sizeof(R.st.channel));
	if (R.closing) {
		/* The last reply (RUNNING or REJECT) must reach the source: close
		 * only once it is acknowledged (lwIP would drop unsent data). */
		if (!R.closing_ns)
			R.closing_ns = time_ns();
		bool out = mig_conn_flush(&R.conn) && !mig_conn_unacked(&R.conn);
		if (out || R.conn.failed || time_ns() - R.closing_ns > CLOSE_TIMEOUT_NS) {
			mig_conn_close(&R.conn, R.conn.failed);
			R.active = false;
		}
		return R.active;
	}
	mig_conn_flush(&R.conn);
	if (!R.have_header) {
		uint8_t hdr[MIG_HEADER_LEN];
		struct mig_header h;
		char err[100];
		if (mig_conn_take(&R.conn, hdr, sizeof(hdr))) {
			if (mig_header_decode(hdr, sizeof(hdr), &h, err, sizeof(err))) {
				recv_fail("%s", err);
				return true;
			}
			if (h.flags & MIG_HDR_DISK_ONLY) {
				recv_fail("a disk transfer came to the VM port (use disk receive)");
				return true;
			}
			R.have_header = true;
			R.apply.vm_uid = h.vm_uid;
		}
	}
	for (int i = 0; R.have_header && i < RECORDS_PER_POLL && R.active && !R.closing; i++) {
		struct mig_record r;
		if (!mig_conn_idle(&R.conn))
			break; /* an answer is still going out: records may need another */
		char err[120];
		int rc = mig_conn_next_record(&R.conn, &r, err, sizeof(err));
		if (rc < 0) {
			recv_fail("%s", err);
			break;
		}
		if (rc == 0)
			break;
		handle(&r);
		mig_conn_flush(&R.conn);
	}
	if (R.active && !R.closing) {
		struct mig_limits lim;
		char why[160];
		mig_limits_current(&lim);
		R.st.bytes = R.conn.bytes_in;
		if (R.conn.failed) {
			recv_fail("%s", R.conn.error);
		} else if (mig_watchdog_check(&R.wd, &lim, time_ns(), R.conn.bytes_in,
					      R.conn.bytes_out, why, sizeof(why))) {
			R.conn.failed = true; /* a peer this slow does not read a REJECT */
			recv_fail("%s", why);
		}
	}
	return R.active;
}
