/* The destination side of a live migration; see migrate.h. The VM is
 * built paused from the stream and runs only after the source's GO. */
#include <stdarg.h>

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "lwip/tcp.h"
#include "migrate/mig_channel.h"
#include "migrate/mig_conn.h"
#include "migrate/mig_internal.h"
#include "migrate/mig_listen.h"
#include "migrate/mig_watchdog.h"
#include "migrate/migrate.h"
#include "migrate/recv_disks.h"
#include "migrate/vm_state.h"
#include "hv/lib/wire.h"

#define RECORDS_PER_POLL 64
#define CLOSE_TIMEOUT_NS (10 * NS_PER_SEC)

enum { HAVE_VCPU = 1, HAVE_LAPIC = 2, HAVE_UART = 4, HAVE_PLATFORM = 8, HAVE_MODULES = 16 };
#define HAVE_ALL (HAVE_VCPU | HAVE_LAPIC | HAVE_UART | HAVE_PLATFORM | HAVE_MODULES)

static struct receiver {
	struct mig_listener listener;
	struct mig_status st;
	struct mig_conn conn;
	bool active;              /* a connection is being served */
	bool have_header;
	bool ended;               /* END arrived, READY sent */
	bool closing;             /* reply staged: close once it is out */
	uint64_t closing_ns;
	struct vm *vm;
	uint64_t *written;        /* pages the stream wrote: others are still zero */
	struct mig_vm_state state;
	unsigned have;
	struct mig_watchdog wd;
	uint64_t vm_uid;          /* from the stream header: the VM keeps it */
	struct recv_disks disks;
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
	if (R.vm) {
		vm_migration_discard(R.vm);
		R.vm = NULL;
	}
	recv_disks_status(&R.disks, &R.st.disk);
	recv_disks_abandon(&R.disks); /* after the VM let go of them */
	kfree(R.written);
	R.written = NULL;
	R.st.phase = MIG_FAILED;
	R.st.end_ns = time_ns();
	log_warn("migrate: incoming %s discarded: %s", R.st.vm[0] ? R.st.vm : "VM", R.st.error);
	if (!R.conn.failed && R.conn.pcb && mig_conn_idle(&R.conn)) {
		mig_conn_stage_copy(&R.conn, MIG_REC_REJECT, R.st.error, (uint32_t)strlen(R.st.error));
		R.closing = true;
	} else {
		mig_conn_close(&R.conn, true);
		R.active = false;
	}
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	uint32_t ip = mig_remote_ip(pcb);
	if (!mig_listener_admits(&R.listener, ip)) {
		log_warn("migrate: refused a connection from %u.%u.%u.%u (not a configured peer)",
			 ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
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
		log_warn("migrate: refused %u.%u.%u.%u: %s", ip >> 24, (ip >> 16) & 0xff,
			 (ip >> 8) & 0xff, ip & 0xff, why);
		mig_conn_close(&R.conn, true);
		return ERR_ABRT;
	}
	R.active = true;
	R.have_header = R.ended = R.closing = false;
	R.closing_ns = 0;
	R.have = 0;
	R.vm = NULL;
	memset(&R.disks, 0, sizeof(R.disks));
	memset(&R.st, 0, sizeof(R.st));
	memset(&R.state, 0, sizeof(R.state)); /* nothing of an earlier stream counts */
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

static void apply_pages(const struct mig_record *r)
{
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type type;
	const uint8_t *data;
	char err[100];
	int rc;
	uint64_t poisoned = 0, first_poisoned = 0;

	if (mig_pages_open(&rd, r->body, r->len, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	while ((rc = mig_pages_next(&rd, &gfn, &type, &data, err, sizeof(err))) == 1) {
		if (gfn >= R.vm->mem.size / MIG_PAGE_SIZE) {
			recv_fail("page 0x%lx is outside the VM's %lu MiB", (unsigned long)gfn,
				  (unsigned long)(R.vm->mem.size >> 20));
			return;
		}
		void *dst = gmem_ptr(&R.vm->mem, gfn * MIG_PAGE_SIZE);
		uint64_t bit = 1ull << (gfn % 64);
		if (type == MIG_PAGE_NORMAL) {
			memcpy(dst, data, MIG_PAGE_SIZE);
			R.written[gfn / 64] |= bit;
		} else {
			/* Fresh guest memory is zero: clear only what the stream wrote. */
			if (R.written[gfn / 64] & bit)
				memset(dst, 0, MIG_PAGE_SIZE);
			R.written[gfn / 64] &= ~bit;
			if (type == MIG_PAGE_ZERO) {
				R.st.zero_pages++;
			} else {
				/* The same guest page fails here as it did there. */
				poison_guest_page_quiet(R.vm, gfn * MIG_PAGE_SIZE);
				R.st.poison_pages++;
				if (!poisoned++)
					first_poisoned = gfn * MIG_PAGE_SIZE;
			}
		}
		R.st.pages_sent++;
	}
	/* One line per record, not per page: a record full of them must not
	 * keep the console (a polled UART) busy for seconds. */
	if (poisoned)
		log_warn("migrate: %lu page%s of VM %s arrived poisoned (first GPA 0x%lx)",
			 (unsigned long)poisoned, poisoned == 1 ? "" : "s", R.vm->name,
			 (unsigned long)first_poisoned);
	if (rc < 0)
		recv_fail("%s", err);
}

static void got_config(const struct mig_record *r)
{
	struct mig_vm_config c;
	char err[160];

	if (mig_vm_config_decode(r->body, r->len, &c, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	str_copy(R.st.vm, c.name, sizeof(R.st.vm));
	R.vm = vm_create_incoming(c.name, c.mem_bytes, c.image, c.cmdline, err, sizeof(err));
	if (!R.vm) {
		recv_fail("%s", err);
		return;
	}
	R.vm->uid = R.vm_uid;
	mig_watchdog_phase(&R.wd, "the transfer", true, time_ns(), R.conn.bytes_in,
			   R.conn.bytes_out);
	R.st.pages_total = c.mem_bytes / MIG_PAGE_SIZE;
	R.written = kzalloc((R.st.pages_total + 63) / 64 * 8);
	if (!R.written)
		recv_fail("out of memory for the page map");
	log_info("migrate: receiving VM %s (%lu MiB) from %u.%u.%u.%u", c.name,
		 (unsigned long)(c.mem_bytes >> 20), R.st.peer >> 24, (R.st.peer >> 16) & 0xff,
		 (R.st.peer >> 8) & 0xff, R.st.peer & 0xff);
}

static void got_state(const struct mig_record *r)
{
	char err[100];
	int rc = 0;
	unsigned bit = 0;

	switch (r->type) {
	case MIG_REC_VCPU:
		rc = mig_vcpu_decode(r->body, r->len, &R.state.vcpu, err, sizeof(err));
		bit = HAVE_VCPU;
		break;
	case MIG_REC_LAPIC:
		rc = mig_lapic_decode(r->body, r->len, &R.state.lapic, err, sizeof(err));
		bit = HAVE_LAPIC;
		break;
	case MIG_REC_UART:
		rc = mig_uart_decode(r->body, r->len, &R.state.uart, err, sizeof(err));
		bit = HAVE_UART;
		break;
	case MIG_REC_MODULES:
		rc = mig_modules_decode(r->body, r->len, &R.state.modules, err, sizeof(err));
		bit = HAVE_MODULES;
		break;
	default:
		rc = mig_platform_decode(r->body, r->len, &R.state.platform, err, sizeof(err));
		bit = HAVE_PLATFORM;
		break;
	}
	if (rc)
		recv_fail("%s", err);
	else
		R.have |= bit;
}

/* One device's state: kept until END, where every device checks its own. */
static void got_device(const struct mig_record *r)
{
	char err[100];
	struct mig_device *d = &R.state.dev[R.state.ndev];

	if (R.state.ndev == MIG_DEVICES_MAX) {
		recv_fail("more DEVICE records than devices");
		return;
	}
	if (mig_device_decode(r->body, r->len, d, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	for (size_t i = 0; i < R.state.ndev; i++)
		if (R.state.dev[i].id == d->id) {
			recv_fail("two DEVICE records for device %u", d->id);
			return;
		}
	R.state.ndev++;
}

/* END: the VM is complete; its devices take their state now (it does not
 * run before GO), so a state they refuse is refused before READY. */
static void got_end(void)
{
	char err[200];

	if (R.have != HAVE_ALL) {
		recv_fail("END before the vCPU and device state");
		return;
	}
	if (recv_disks_adopt(&R.disks, R.vm, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	if (mig_vm_apply(R.vm, &R.state, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	R.ended = true;
	R.st.phase = MIG_AWAIT_GO;
	mig_watchdog_phase(&R.wd, "the wait for GO", false, time_ns(), R.conn.bytes_in,
			   R.conn.bytes_out);
	mig_conn_stage(&R.conn, MIG_REC_READY, 0);
}

static void got_go(void)
{
	struct vm *vm = R.vm;
	char err[200];

	if (recv_disks_commit(&R.disks, vm, err, sizeof(err))) {
		recv_fail("%s", err);
		return;
	}
	recv_disks_status(&R.disks, &R.st.disk);
	R.disks.n = 0; /* they are the VM's disks now */
	mig_vm_restore(vm, &R.state, rdtsc());
	/* As it was on the source: running, paused by the operator, or never
	 * started. */
	vm_migration_arrived(vm, R.state.platform.run_state == MIG_RUN_CREATED  ? VM_CREATED
				 : R.state.platform.run_state == MIG_RUN_PAUSED ? VM_PAUSED
										: VM_RUNNING);
	R.vm = NULL;
	kfree(R.written);
	R.written = NULL;
	R.st.phase = MIG_DONE;
	R.st.end_ns = R.st.resume_ns = time_ns();
	mig_conn_stage(&R.conn, MIG_REC_RUNNING, 0);
	R.closing = true;
	log_info("migrate: VM %s arrived from %u.%u.%u.%u and runs here (%lu pages, %lu zero)",
		 vm->name, R.st.peer >> 24, (R.st.peer >> 16) & 0xff, (R.st.peer >> 8) & 0xff,
		 R.st.peer & 0xff, (unsigned long)R.st.pages_sent, (unsigned long)R.st.zero_pages);
}

/* One record in stream order; the first failure ends the migration. */
static void handle(const struct mig_record *r)
{
	char name[24];
	const char *what = mig_record_name(r->type, name, sizeof(name));

	if (R.ended && r->type != MIG_REC_GO && r->type != MIG_REC_ABORT) {
		recv_fail("%s record after END", what);
		return;
	}
	if (!R.vm && r->type != MIG_REC_VM_CONFIG && r->type != MIG_REC_ABORT &&
	    !(r->type & MIG_TYPE_OPTIONAL)) {
		recv_fail("%s record before VM_CONFIG", what);
		return;
	}
	switch (r->type) {
	case MIG_REC_VM_CONFIG:
		if (R.vm)
			recv_fail("a second VM_CONFIG record");
		else
			got_config(r);
		break;
	case MIG_REC_PAGES:
		apply_pages(r);
		break;
	case MIG_REC_VCPU:
	case MIG_REC_LAPIC:
	case MIG_REC_UART:
	case MIG_REC_PLATFORM:
	case MIG_REC_MODULES:
		got_state(r);
		break;
	case MIG_REC_DEVICE:
		got_device(r);
		break;
	case MIG_REC_END:
		got_end();
		break;
	case MIG_REC_GO:
		if (!R.ended)
			recv_fail("GO before END");
		else
			got_go();
		break;
	case MIG_REC_ABORT:
		recv_fail("the source gave up");
		break;
	case MIG_REC_ROUND:
		if (r->len >= 4)
			R.st.round = get_le32(r->body);
		break;
	default:
		if (recv_disks_handles(r->type)) {
			char err[160];
			if (recv_disks_record(&R.disks, r->type, r->body, r->len, &R.conn, err,
					      sizeof(err)))
				recv_fail("%s", err);
			break;
		}
		if (!(r->type & MIG_TYPE_OPTIONAL))
			recv_fail("unknown mandatory %s record", what);
		break; /* optional records this version does not know: skipped */
	}
}

bool migrate_recv_poll(void)
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
			R.vm_uid = h.vm_uid;
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
		recv_disks_status(&R.disks, &R.st.disk);
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
