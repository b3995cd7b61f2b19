/* The source side of `disk send`; see disk_xfer.h. */
#include <stdarg.h>

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/store/datastore.h"
#include "migrate/mig_channel.h"
#include "migrate/disk_tx.h"
#include "migrate/disk_xfer.h"
#include "migrate/mig_conn.h"
#include "migrate/mig_internal.h"
#include "net/net_addr.h"

#define CONNECT_TIMEOUT_NS (10 * NS_PER_SEC)
#define REPLY_TIMEOUT_NS (60 * NS_PER_SEC)
#define STALL_TIMEOUT_NS (10 * NS_PER_SEC)
#define POLL_BUDGET_NS (2 * NS_PER_MS)
#define VERIFY_BYTES_PER_TURN (4u << 20)

enum step { ST_HEADER, ST_OFFER, ST_ANSWER, ST_VERIFY, ST_BLOCKS, ST_END, ST_WAIT };

static struct {
	struct disk_xfer_status st;
	struct mig_conn conn;
	struct store_disk *disk;
	struct disk_tx tx;
	struct mig_disk_accept acc;
	bool accepted;
	enum step step;
	uint64_t phase_ns, last_acked, last_ack_ns;
} D;

const struct disk_xfer_status *disk_send_status(void)
{
	return &D.st;
}

static void finish(enum disk_xfer_phase phase)
{
	mig_conn_close(&D.conn, phase != DX_DONE);
	disk_tx_free(&D.tx);
	store_disk_close(D.disk);
	D.disk = NULL;
	D.st.phase = phase;
	D.st.end_ns = time_ns();
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(D.st.reason, sizeof(D.st.reason), fmt, ap);
	va_end(ap);
	log_warn("disk send %s: failed: %s", D.st.disk, D.st.reason);
	finish(DX_FAILED);
}

int disk_send_start(const char *name, uint32_t dst, uint16_t port, const char *as, char *err,
		    size_t errlen)
{
	struct store *s = datastore();
	struct store_disk_info info;
	char why[160];

	if (D.st.phase == DX_RUNNING) {
		fmt_snprintf(err, errlen, "a transfer of '%s' is in progress", D.st.disk);
		return -1;
	}
	if (!s) {
		fmt_snprintf(err, errlen, "no datastore is open (see 'ds')");
		return -1;
	}
	if (store_disk_info(s, name, &info)) {
		fmt_snprintf(err, errlen, "no disk '%.31s'", name);
		return -1;
	}
	if (info.open_writers) {
		/* Its content would change under the copy (and its content ID
		 * with it): a running VM's disk moves with `migrate send`. */
		fmt_snprintf(err, errlen, "disk '%s' is attached writable to a VM (migrate the VM, "
			     "or stop it first)", name);
		return -1;
	}
	memset(&D, 0, sizeof(D));
	if (store_disk_open(s, name, false, &D.disk, why, sizeof(why))) {
		fmt_snprintf(err, errlen, "disk '%s': %s", name, why);
		return -1;
	}
	if (disk_tx_init(&D.tx, D.disk, 0) || !mig_conn_init(&D.conn, MIG_CONN_OUT_CAP)) {
		disk_tx_free(&D.tx);
		store_disk_close(D.disk);
		D.disk = NULL;
		fmt_snprintf(err, errlen, "out of memory for the transfer buffers");
		return -1;
	}
	str_copy(D.st.disk, name, sizeof(D.st.disk));
	str_copy(D.st.as, as && as[0] ? as : name, sizeof(D.st.as));
	D.st.peer = dst;
	D.st.port = port;
	D.st.phase = DX_RUNNING;
	D.st.start_ns = D.phase_ns = time_ns();
	if (!mig_conn_connect(&D.conn, dst, port) ||
	    mig_channel_open(&D.conn, MIG_TLS_CLIENT, why, sizeof(why))) {
		fail("%s", D.conn.failed ? D.conn.error : why);
		str_copy(err, D.st.reason, errlen);
		return -1;
	}
	str_copy(D.st.channel, mig_channel_name(&D.conn), sizeof(D.st.channel));
	char addr[16];
	net_addr_format(dst, addr);
	log_info("disk send %s: to %s:%u as %s", name, addr, port, D.st.as);
	return 0;
}

static void stage_header(void)
{
	struct mig_header h = { .version = MIG_VERSION, .page_size = MIG_PAGE_SIZE,
				.source_id = mig_instance_id(), .flags = MIG_HDR_DISK_ONLY };

	mig_instance_name(h.source_name, sizeof(h.source_name));
	mig_header_encode(&h, mig_conn_body(&D.conn));
	mig_conn_stage(&D.conn, 0, MIG_HEADER_LEN);
}

/* The resume check, then DISK_START. */
static void stage_start(uint64_t deadline)
{
	struct mig_disk_start st = { .index = 0 };

	if (D.acc.offset) {
		uint32_t crc = 0;
		int rc;
		while ((rc = disk_tx_verify_step(&D.tx, D.acc.offset, VERIFY_BYTES_PER_TURN, &crc)) ==
		       0)
			if (time_ns() >= deadline || disk_tx_keepalive(&D.tx, &D.conn))
				return;
		if (rc < 0) {
			fail("reading the disk to check the destination's fragment failed");
			return;
		}
		if (crc == D.acc.crc) {
			st.offset = D.acc.offset;
			st.crc = crc;
		} else {
			log_warn("disk send %s: the destination's fragment does not match (CRC %08x, "
				 "here %08x): sending it all", D.st.disk, D.acc.crc, crc);
		}
	}
	disk_tx_start(&D.tx, st.offset, st.crc);
	D.st.resumed_at = st.offset;
	D.st.bytes_total = D.tx.blocks_total * D.tx.block_size;
	mig_conn_stage(&D.conn, MIG_REC_DISK_START, mig_disk_start_encode(&st, mig_conn_body(&D.conn)));
	D.step = ST_BLOCKS;
}

static void stage_blocks(void)
{
	char err[100];
	long len = disk_tx_stage(&D.tx, mig_conn_body(&D.conn), err, sizeof(err));

	if (len < 0) {
		fail("%s", err);
	} else if (len > 0) {
		mig_conn_stage(&D.conn, MIG_REC_DISK_BLOCKS, (uint32_t)len);
	} else if (D.tx.bulk_end_due) {
		D.tx.bulk_end_due = false;
		mig_conn_stage(&D.conn, MIG_REC_DISK_BULK_END,
			       mig_disk_index_encode(0, mig_conn_body(&D.conn)));
		D.step = ST_END;
	}
}

static void produce(uint64_t deadline)
{
	while (D.disk && mig_conn_flush(&D.conn) && time_ns() < deadline) {
		switch (D.step) {
		case ST_HEADER:
			stage_header();
			D.step = ST_OFFER;
			break;
		case ST_OFFER: {
			struct mig_disk_offer o;
			struct store_disk_info info;
			store_disk_handle_info(D.disk, &info);
			disk_tx_offer(&D.tx, datastore(), D.st.as, info.base ? MIG_DISK_BASE : 0, &o);
			mig_conn_stage(&D.conn, MIG_REC_DISK_OFFER,
				       mig_disk_offer_encode(&o, mig_conn_body(&D.conn)));
			D.step = ST_ANSWER;
			D.phase_ns = time_ns();
			break;
		}
		case ST_ANSWER:
			if (!D.accepted)
				return;
			D.step = ST_VERIFY;
			break;
		case ST_VERIFY:
			stage_start(deadline);
			break;
		case ST_BLOCKS:
			stage_blocks();
			break;
		case ST_END: {
			/* A writer that came meanwhile (a VM attached it) made what
			 * was sent a mix: it must not pass for the source's content. */
			struct store_disk_info info;
			struct mig_disk_end e = { .index = 0 };
			store_disk_handle_info(D.disk, &info);
			if (info.open_writers ||
			    memcmp(info.content_id.b, D.tx.content_id, MIG_DISK_ID_LEN)) {
				fail("disk '%s' was written during the transfer: send it again",
				     D.st.disk);
				return;
			}
			memcpy(e.content_id, D.tx.content_id, MIG_DISK_ID_LEN);
			mig_conn_stage(&D.conn, MIG_REC_DISK_END,
				       mig_disk_end_encode(&e, mig_conn_body(&D.conn)));
			D.step = ST_WAIT;
			D.phase_ns = time_ns();
			break;
		}
		case ST_WAIT:
			return;
		}
	}
}

static void handle_reply(void)
{
	struct mig_record r;
	char err[120];
	int rc = mig_conn_next_record(&D.conn, &r, err, sizeof(err));

	if (rc <= 0) {
		if (rc < 0)
			fail("bad reply from the destination: %s", err);
		return;
	}
	if (r.type == MIG_REC_REJECT) {
		char why[100];
		mig_text_decode(r.body, r.len, why, sizeof(why));
		fail("the destination refused: %s", why);
	} else if (r.type == MIG_REC_DISK_ACCEPT && D.step == ST_ANSWER && !D.accepted) {
		if (mig_disk_accept_decode(r.body, r.len, &D.acc, err, sizeof(err))) {
			fail("bad DISK_ACCEPT: %s", err);
			return;
		}
		if (D.acc.index != 0 || D.acc.offset > D.tx.size ||
		    (D.acc.base != MIG_DISK_NO_BASE && D.acc.base >= D.tx.nancestors)) {
			fail("DISK_ACCEPT out of range (disk %u, offset %lu, base %u)", D.acc.index,
			     (unsigned long)D.acc.offset, D.acc.base);
			return;
		}
		D.accepted = true;
		disk_tx_accepted(&D.tx, &D.acc);
		D.st.base_skipped = D.tx.base_skipped;
	} else if (r.type == MIG_REC_DISK_DONE && D.step == ST_WAIT) {
		D.st.bytes_sent = D.st.bytes_total;
		D.st.wire_bytes = D.conn.bytes_out;
		log_info("disk send %s: done in %lu ms, %lu bytes on the wire, resumed at %lu",
			 D.st.disk, (unsigned long)((time_ns() - D.st.start_ns) / NS_PER_MS),
			 (unsigned long)D.st.wire_bytes, (unsigned long)D.st.resumed_at);
		finish(DX_DONE);
	} else {
		char name[24];
		fail("unexpected %s record from the destination",
		     mig_record_name(r.type, name, sizeof(name)));
	}
}

bool disk_send_poll(void)
{
	if (!D.disk)
		return false;
	uint64_t now = time_ns();
	if (D.conn.out)
		str_copy(D.st.channel, mig_channel_name(&D.conn), sizeof(D.st.channel));

	if (D.conn.connected)
		handle_reply();
	if (D.disk && D.conn.failed)
		fail("%s", D.conn.error);
	if (!D.disk)
		return false;
	if (!D.conn.connected) {
		if (now - D.phase_ns > CONNECT_TIMEOUT_NS)
			fail("no answer from the destination (connect timed out)");
		return false;
	}
	if (D.conn.bytes_acked != D.last_acked || !mig_conn_unacked(&D.conn)) {
		D.last_acked = D.conn.bytes_acked;
		D.last_ack_ns = now;
	} else if (D.last_ack_ns && now - D.last_ack_ns > STALL_TIMEOUT_NS) {
		fail("the destination stopped acknowledging for %u s (link or peer lost)",
		     (unsigned)(STALL_TIMEOUT_NS / NS_PER_SEC));
		return false;
	}
	produce(now + POLL_BUDGET_NS);
	if (!D.disk)
		return false;
	if ((D.step == ST_WAIT || D.step == ST_ANSWER) && time_ns() - D.phase_ns > REPLY_TIMEOUT_NS) {
		fail("the destination did not answer within %u s",
		     (unsigned)(REPLY_TIMEOUT_NS / NS_PER_SEC));
		return false;
	}
	D.st.wire_bytes = D.conn.bytes_out;
	D.st.bytes_sent = D.tx.blocks_sent * D.tx.block_size;
	if (D.st.bytes_sent > D.st.bytes_total)
		D.st.bytes_sent = D.st.bytes_total;
	return D.step != ST_WAIT;
}

const char *disk_xfer_phase_name(enum disk_xfer_phase p)
{
	static const char *const names[] = { [DX_IDLE] = "idle", [DX_RUNNING] = "running",
					     [DX_DONE] = "done", [DX_FAILED] = "failed" };

	return names[p];
}
