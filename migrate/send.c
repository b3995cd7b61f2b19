/* The source side of a live migration; see migrate.h for the protocol. */
#include <stdarg.h>

#include "hv/core/config.h"
#include "hv/core/log.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/bitmap.h"
#include "hv/lib/format.h"
#include "hv/lib/muldiv.h"
#include "hv/lib/string.h"
#include "hv/mce/mca.h"
#include "hv/mm/mm.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "migrate/mig_channel.h"
#include "migrate/mig_conn.h"
#include "migrate/mig_internal.h"
#include "migrate/migrate.h"
#include "migrate/delta_cache.h"
#include "migrate/page_delta.h"
#include "migrate/page_sig.h"
#include "migrate/seed.h"
#include "migrate/send_disks.h"
#include "migrate/vm_state.h"
#include "hv/lib/wire.h"
#include "net/net_addr.h"

#define CONNECT_TIMEOUT_NS (10 * NS_PER_SEC)
#define REPLY_TIMEOUT_NS (60 * NS_PER_SEC)
/* Data in flight and nothing acknowledged for this long: the link or the
 * destination is gone (TCP itself would retry for minutes). */
#define STALL_TIMEOUT_NS (10 * NS_PER_SEC)
#define POLL_BUDGET_NS (2 * NS_PER_MS) /* per main-loop turn: guests keep running */
#define THROTTLE_STEP 20
#define REPLIES_PER_POLL 64

CONFIG_KEY(key_delta_cache, "migrate_delta_cache_mib", "64",
	   "the source's cache of sent pages for deltas in later rounds, in MiB (0: no deltas)");

enum send_step {
	STEP_HEADER, STEP_CONFIG, STEP_DISK_OFFERS, STEP_DISK_ANSWERS, STEP_DISK_START,
	STEP_PAGES, STEP_STATE, STEP_GO, STEP_WAIT
};

static struct sender {
	struct mig_status st;
	struct migrate_opts opts;
	struct mig_conn conn;
	struct vm *vm;
	enum send_step step;
	unsigned state_part;
	uint64_t *to_send;        /* pages of the current round */
	size_t words;
	uint64_t cursor;          /* next gfn to look at */
	bool started_log;         /* we started the VM's dirty log */
	bool go_sent;
	uint64_t phase_ns;        /* when the current wait began */
	uint64_t round_start_ns, round_start_bytes;
	uint64_t prev_dirty;
	uint64_t state_cost_ns;
	uint64_t last_acked, last_ack_ns;
	bool seed_answered;       /* the destination said what it holds (SEED) */
	bool sign_pages;          /* round 0 sends signatures for non-zero pages */
	uint32_t sig_unanswered;  /* PAGES records with signatures awaiting SIG_MISSES */
	uint64_t sig_wait_ns;     /* the last signed record went, or the last answer came */
	struct delta_cache delta; /* slots == 0: no deltas */
	struct mig_vm_state state;
	struct send_disks disks;
} S;

const struct mig_status *migrate_outgoing(void)
{
	return &S.st;
}

void migrate_default_opts(struct migrate_opts *o)
{
	/* Mirrored disks: docs/benchmarks.md measured less downtime and fewer
	 * bytes than rounds of dirty blocks with a writing guest. */
	*o = (struct migrate_opts){ .downtime_ms = 300, .max_rounds = 30, .throttle = true,
				    .dirty_mode = DIRTY_MODE_BEST,
				    .dirty_installers = DIRTY_INSTALLERS_ALL, .disk_mirror = true };
}

static void finish(void)
{
	send_disks_status(&S.disks, &S.st.disk);
	send_disks_release(&S.disks, S.vm);
	mig_conn_close(&S.conn, S.st.phase != MIG_DONE);
	delta_cache_free(&S.delta);
	kfree(S.to_send);
	S.to_send = NULL;
	S.st.end_ns = time_ns();
	S.vm = NULL;
}

/* Gives the guest back untouched, or (after GO) leaves it paused. */
static void send_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_fail(const char *fmt, ...)
{
	va_list ap;
	struct vm *vm = S.vm;

	va_start(ap, fmt);
	fmt_vsnprintf(S.st.error, sizeof(S.st.error), fmt, ap);
	va_end(ap);
	if (S.started_log && vm->dirty.active)
		dirty_log_stop(vm);
	if (S.go_sent) {
		S.st.phase = MIG_OUTCOME_UNKNOWN;
		vm_migration_outcome_unknown(vm, S.st.error);
		log_warn("migrate %s: hand-over interrupted after GO: %s; the VM stays paused here",
			 vm->name, S.st.error);
	} else {
		vm_migration_abort(vm);
		S.st.phase = MIG_FAILED;
		log_warn("migrate %s: failed: %s; the VM runs on here", vm->name, S.st.error);
	}
	finish();
}

/* The buffers and the dirty log a migration of vm needs: 0, or -1 with
 * the reason in err and nothing left allocated. */
static int prepare(struct vm *vm, const struct migrate_opts *o, char *err, size_t errlen)
{
	S.words = (vm->mem.size / MIG_PAGE_SIZE + 63) / 64;
	S.to_send = kmalloc(S.words * 8);
	if (!S.to_send || !mig_conn_init(&S.conn, MIG_CONN_IN_CAP)) {
		kfree(S.to_send);
		S.to_send = NULL;
		fmt_snprintf(err, errlen, "out of memory for the migration buffers");
		return -1;
	}
	if (vm->dirty.active && o->dirty_installers != DIRTY_INSTALLERS_ALL &&
	    o->dirty_installers != vm->dirty.installers) {
		fmt_snprintf(err, errlen, "dirty tracking runs already with other installers (dirty "
			     "stop %s first)", vm->name);
		goto undo;
	}
	if (vm->dirty.active && o->dirty_mode != DIRTY_MODE_BEST &&
	    o->dirty_mode != vm->dirty.track.mode) {
		fmt_snprintf(err, errlen, "dirty tracking runs in mode %s already (dirty stop %s, or "
			     "mode=%s)", dirty_mode_name(vm->dirty.track.mode), vm->name,
			     dirty_mode_name(vm->dirty.track.mode));
		goto undo;
	}
	if (send_disks_prepare(&S.disks, vm, o->disks_shared, err, errlen))
		goto undo;
	if (vm->dirty.active) {
		dirty_log_harvest(vm); /* what the user's log had is not ours to send */
	} else {
		if (dirty_log_start(vm, o->dirty_mode, DIRTY_GRAN_4K, o->dirty_installers, err,
				    errlen)) {
			send_disks_release(&S.disks, vm);
			goto undo;
		}
		S.started_log = true;
	}
	uint64_t cache_mib = 0;
	setting_u64("migrate_delta_cache_mib", &cache_mib);
	if (!o->no_delta && cache_mib &&
	    !delta_cache_init(&S.delta, (size_t)(cache_mib < (vm->mem.size >> 20) ? cache_mib
						 : (vm->mem.size >> 20)) << 20))
		log_warn("migrate %s: no memory for the %lu MiB delta cache: pages resent whole",
			 vm->name, (unsigned long)cache_mib);
	/* Round 0 sends every page. */
	memset(S.to_send, 0xff, S.words * 8);
	if (vm->mem.size / MIG_PAGE_SIZE % 64)
		S.to_send[S.words - 1] = (1ull << (vm->mem.size / MIG_PAGE_SIZE % 64)) - 1;
	return 0;
undo:
	mig_conn_close(&S.conn, true);
	kfree(S.to_send);
	S.to_send = NULL;
	return -1;
}

int migrate_send(struct vm *vm, uint32_t dst, uint16_t port, const struct migrate_opts *o,
		 char *err, size_t errlen)
{
	if (S.vm) {
		fmt_snprintf(err, errlen, "a migration of '%s' is in progress", S.vm->name);
		return -1;
	}
	if (vm_migration_begin(vm, err, errlen))
		return -1;
	memset(&S, 0, sizeof(S));
	S.opts = *o;
	if (prepare(vm, o, err, errlen)) {
		vm_migration_abort(vm);
		return -1;
	}
	S.vm = vm;
	str_copy(S.st.vm, vm->name, sizeof(S.st.vm));
	S.st.dirty_mode = vm->dirty.track.mode;
	S.st.dirty_installers = vm->dirty.installers;
	S.st.peer = dst;
	S.st.port = port;
	S.st.phase = MIG_CONNECTING;
	S.st.start_ns = S.phase_ns = time_ns();
	S.st.downtime_limit_ms = o->downtime_ms;
	S.st.pipelined = o->pipelined;
	S.st.pages_total = vm->mem.size / MIG_PAGE_SIZE;
	S.st.pages_remaining = S.st.pages_total;
	S.st.converging = true;

	/* What saving the vCPU and devices costs, for the downtime estimate. */
	uint64_t t0 = time_ns();
	mig_vm_capture(vm, &S.state, rdtsc());
	S.state_cost_ns = time_ns() - t0;

	char why[160];
	if (!mig_conn_connect(&S.conn, dst, port) ||
	    mig_channel_open(&S.conn, MIG_TLS_CLIENT, why, sizeof(why))) {
		send_fail("%s", S.conn.failed ? S.conn.error : why);
		str_copy(err, S.st.error, errlen);
		return -1;
	}
	str_copy(S.st.channel, mig_channel_name(&S.conn), sizeof(S.st.channel));
	char addr[16];
	net_addr_format(dst, addr);
	log_info("migrate %s: to %s:%u, %lu pages", vm->name, addr, port,
		 (unsigned long)S.st.pages_total);
	return 0;
}

int migrate_cancel(char *err, size_t errlen)
{
	if (!S.vm) {
		fmt_snprintf(err, errlen, "no migration is in progress");
		return -1;
	}
	if (S.go_sent) {
		fmt_snprintf(err, errlen, "too late: the destination was told to run '%s'",
			     S.vm->name);
		return -1;
	}
	send_fail("cancelled from the console");
	return 0;
}

/* Reads a guest page to send. Poisoned pages are never read: the error
 * travels instead of the data. When a machine check cuts the read short,
 * the error is handled at once (retired, poisoned if it is this page); if
 * it hit elsewhere, the page is read again. @return false if poisoned. */
static bool read_page(uint64_t gfn, void *page)
{
	uint64_t gpa = gfn * MIG_PAGE_SIZE;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (vm_page_poisoned(S.vm, gpa))
			return false;
		if (!copy_mc_safe(page, gmem_ptr(&S.vm->mem, gpa), MIG_PAGE_SIZE))
			return true;
		mce_poll();
	}
	/* It failed twice and no bank named it: treat it as bad here too, so
	 * both sides agree. */
	poison_guest_page(S.vm, gpa);
	return false;
}

/* A page the destination will hold as sent: as a delta against the
 * version it holds when there is one and the delta is smaller, else whole.
 * Either way it is the version deltas start from next time. */
static void add_data_page(struct mig_pages_writer *w, uint64_t gfn, const uint8_t *page)
{
	if (!S.delta.slots) {
		mig_pages_add(w, gfn, MIG_PAGE_NORMAL, page);
		return;
	}
	const uint8_t *old = S.st.round ? delta_cache_find(&S.delta, gfn) : NULL;
	size_t n = old ? page_delta_encode(old, page, mig_pages_delta_room(w), MIG_DELTA_MAX) : 0;
	if (n) {
		mig_pages_add_delta(w, gfn, (uint32_t)n);
		S.st.delta_pages++;
		S.st.delta_bytes += n;
	} else {
		mig_pages_add(w, gfn, MIG_PAGE_NORMAL, page);
	}
	delta_cache_store(&S.delta, gfn, page);
}

static bool page_is_zero(const uint64_t *p)
{
	for (size_t i = 0; i < MIG_PAGE_SIZE / 8; i++)
		if (p[i])
			return false;
	return true;
}

/* Stages the next batch of the round; false when the round is done. */
static bool stage_pages(void)
{
	struct mig_pages_writer w;
	uint64_t npages = S.st.pages_total;
	bool signed_any = false;
	/* Later rounds resend pages the guest wrote: those the seed lacks. */
	bool sign = S.sign_pages && S.st.round == 0;

	mig_pages_begin(&w, mig_conn_body(&S.conn));
	while (S.cursor < npages && w.count < MIG_MAX_BATCH) {
		uint64_t word = S.to_send[S.cursor / 64] >> (S.cursor % 64);
		if (!word) {
			S.cursor = (S.cursor / 64 + 1) * 64;
			continue;
		}
		S.cursor += (uint64_t)__builtin_ctzll(word);
		if (S.cursor >= npages)
			break;
		uint64_t gfn = S.cursor++;
		S.to_send[gfn / 64] &= ~(1ull << (gfn % 64));
		static uint64_t page[MIG_PAGE_SIZE / 8];
		bool data = false;
		if (!read_page(gfn, page)) {
			mig_pages_add(&w, gfn, MIG_PAGE_POISON, NULL);
			S.st.poison_pages++;
		} else if (page_is_zero(page)) {
			mig_pages_add(&w, gfn, MIG_PAGE_ZERO, NULL);
			S.st.zero_pages++;
		} else if (sign) {
			uint8_t sig[MIG_SIG_LEN];
			page_sig(page, sig);
			mig_pages_add(&w, gfn, MIG_PAGE_SIGNATURE, sig);
			S.st.sig_pages++;
			signed_any = true;
		} else {
			add_data_page(&w, gfn, (const uint8_t *)page);
			data = true;
		}
		if (!data && S.delta.slots)
			delta_cache_forget(&S.delta, gfn); /* it holds another version now */
		S.st.pages_sent++;
		if (S.st.pages_remaining)
			S.st.pages_remaining--;
		if (S.st.round < MIGRATE_ROUNDS_KEPT)
			S.st.pages_per_round[S.st.round]++;
	}
	if (!w.count)
		return false;
	mig_conn_stage(&S.conn, MIG_REC_PAGES, mig_pages_end(&w));
	if (signed_any) {
		S.sig_unanswered++;
		S.sig_wait_ns = time_ns();
	}
	return true;
}

static void pause_guest(void)
{
	vm_migration_pause(S.vm);
	S.st.pause_ns = time_ns();
}

/* The pages and disk blocks written since the last call join the next
 * round; returns the pages, *disk_bytes the blocks' bytes. */
static uint64_t take_dirty(uint64_t *disk_bytes)
{
	size_t n = dirty_log_harvest(S.vm);
	const uint64_t *d = dirty_log_pages(S.vm);
	const struct dirty_stats *ds = &S.vm->dirty.stats;

	S.st.harvests = ds->harvests;
	S.st.harvest_ns = ds->total_ns;
	S.st.shootdowns = ds->shootdowns;
	S.st.shootdown_ns = ds->shootdown_ns;

	for (size_t i = 0; i < S.words; i++)
		S.to_send[i] |= d[i];
	*disk_bytes = send_disks_harvest(&S.disks, S.vm);
	return n;
}

static uint64_t dirty_pages_queued(void)
{
	return bitmap_count(S.to_send, S.st.pages_total);
}

/* End of a round: go on pre-copying, or stop and copy the rest. A round
 * ends when the destination has taken its pages in (acknowledged), so
 * rounds measure the link, not lwIP's send buffer. Returns false while
 * waiting for that. */
static bool round_done(void)
{
	uint64_t now = time_ns();

	if (S.st.phase == MIG_STOP_COPY) {
		S.step = STEP_STATE;
		return true;
	}
	/* Every signature judged: the pages the destination lacked join the
	 * next round before it is sized. */
	if (mig_conn_unacked(&S.conn) || S.sig_unanswered)
		return false;
	uint64_t round_ns = now - S.round_start_ns ? now - S.round_start_ns : 1;
	uint64_t disk_bytes;
	uint64_t dirty = take_dirty(&disk_bytes);
	/* The next round: what was written, and what the destination lacked
	 * of the signatures (already queued). */
	uint64_t queued = dirty_pages_queued();
	/* Memory and disks converge together: both count in bytes. */
	uint64_t dirty_bytes = queued * MIG_PAGE_SIZE + disk_bytes;
	/* Bandwidth over the whole transfer: a short round says little. */
	uint64_t all_ns = now - S.st.start_ns ? now - S.st.start_ns : 1;
	S.st.throughput_bytes_per_s = mul_div_u64(S.conn.bytes_acked, NS_PER_SEC, all_ns);
	S.st.dirty_pages_per_s = dirty * NS_PER_SEC / round_ns;
	S.st.disk.dirty_blocks_per_s = S.disks.round_dirty * NS_PER_SEC / round_ns;
	S.st.pages_remaining = queued;
	/* The drain rate: the faster of the whole transfer and the round just
	 * ended. A round 0 of signatures is bound by hashing, not the link (seen:
	 * 7 Mbit/s over the transfer, and 150 pages judged too many for 300 ms
	 * for ten rounds), so the whole transfer alone under-rates the link for
	 * whole pages; a round, acknowledged before it ends, includes the round
	 * trip and does not over-rate it. */
	uint64_t round_bytes = S.conn.bytes_acked - S.round_start_bytes;
	S.st.drain_bytes_per_s = mul_div_u64(round_bytes, NS_PER_SEC, round_ns);
	if (S.st.drain_bytes_per_s < S.st.throughput_bytes_per_s)
		S.st.drain_bytes_per_s = S.st.throughput_bytes_per_s;
	uint64_t bw = S.st.drain_bytes_per_s ? S.st.drain_bytes_per_s : 1;
	/* What the destination has yet to take in is part of the downtime too. */
	S.st.expected_downtime_ns = (dirty_bytes + mig_conn_unacked(&S.conn)) * NS_PER_SEC / bw +
				    S.state_cost_ns;

	/* Dirtying as fast as the link carries pages: it will not converge. */
	if (S.st.round >= 2 && dirty_bytes * 10 >= S.prev_dirty * 9) {
		S.st.converging = false;
		if (S.opts.throttle && S.vm->throttle_pct < VM_THROTTLE_MAX) {
			vm_migration_throttle(S.vm, S.vm->throttle_pct + THROTTLE_STEP);
			S.st.throttle_pct = S.vm->throttle_pct;
		}
	} else if (S.st.round >= 2) {
		S.st.converging = true;
	}
	S.prev_dirty = dirty_bytes;
	if (S.opts.disk_mirror && S.st.round == 0)
		send_disks_start_mirror(&S.disks, S.vm, &S.conn);
	S.st.round++;
	bool fits = S.st.expected_downtime_ns <= (uint64_t)S.opts.downtime_ms * NS_PER_MS;
	if (fits || S.st.round >= S.opts.max_rounds) {
		char err[120];
		pause_guest();
		S.st.phase = MIG_STOP_COPY;
		if (send_disks_flush(&S.disks, S.vm, err, sizeof(err))) {
			send_fail("%s", err);
			return true;
		}
		take_dirty(&disk_bytes);
	}
	S.cursor = 0;
	S.round_start_ns = now;
	S.round_start_bytes = S.conn.bytes_acked;
	/* Tell the destination (optional record: for its status only). */
	uint8_t *body = mig_conn_body(&S.conn);
	put_le32(body, S.st.round);
	put_le32(body + 4, (uint32_t)dirty_pages_queued());
	/* Staged with nothing else in flight: the destination dates the pause
	 * by its arrival. */
	put_le32(body + 8, S.st.phase == MIG_STOP_COPY ? MIG_ROUND_PAUSED : 0);
	/* Flushing the disks and the last harvest came between: that much of
	 * the downtime the destination cannot see. */
	put_le32(body + 12, S.st.phase == MIG_STOP_COPY
				    ? (uint32_t)((time_ns() - S.st.pause_ns) / 1000) : 0);
	mig_conn_stage(&S.conn, MIG_REC_ROUND, 16);
	return true;
}

static void stage_state(void)
{
	uint8_t *body = mig_conn_body(&S.conn);
	unsigned part = S.state_part++;

	switch (part) {
	case 0:
		mig_vm_capture(S.vm, &S.state, rdtsc());
		S.state.platform.run_state = S.vm->paused_for_migration ? MIG_RUN_RUNNING
					     : S.vm->state == VM_PAUSED ? MIG_RUN_PAUSED
					     : S.vm->state == VM_CREATED ? MIG_RUN_CREATED
									   : MIG_RUN_RUNNING;
		mig_conn_stage(&S.conn, MIG_REC_VCPU, mig_vcpu_encode(&S.state.vcpu, body));
		return;
	case 1:
		mig_conn_stage(&S.conn, MIG_REC_LAPIC, mig_lapic_encode(&S.state.lapic, body));
		return;
	case 2:
		mig_conn_stage(&S.conn, MIG_REC_UART, mig_uart_encode(&S.state.uart, body));
		return;
	case 3:
		mig_conn_stage(&S.conn, MIG_REC_PLATFORM,
			       mig_platform_encode(&S.state.platform, body));
		return;
	case 4:
		mig_conn_stage(&S.conn, MIG_REC_MODULES, mig_modules_encode(&S.state.modules, body));
		return;
	}
	if (part - 5 < S.state.ndev) {
		mig_conn_stage(&S.conn, MIG_REC_DEVICE, mig_device_encode(&S.state.dev[part - 5], body));
		return;
	}
	unsigned ap = part - 5 - (unsigned)S.state.ndev;
	if (ap + 1 < S.state.nvcpus) {
		mig_conn_stage(&S.conn, MIG_REC_AP_STATE, mig_ap_encode(&S.state.ap[ap], body));
		return;
	}
	/* Then a VCPU_MSRS record per vCPU with MSRs off their power-on
	 * values (none for most VMs): the parts of those without are skipped. */
	unsigned k = ap + 1 - S.state.nvcpus;
	while (k < S.state.nvcpus && !S.state.msrs[k].count) {
		k++;
		S.state_part++;
	}
	if (k < S.state.nvcpus) {
		mig_conn_stage(&S.conn, MIG_REC_VCPU_MSRS, mig_vcpu_msrs_encode(&S.state.msrs[k], body));
		return;
	}
	if (k == S.state.nvcpus) {
		mig_conn_stage(&S.conn, MIG_REC_PLACEMENT,
			       mig_placement_encode(&S.state.placement, body));
		return;
	}
	if (send_disks_stage_end(&S.disks, &S.conn))
		return;
	mig_conn_stage(&S.conn, MIG_REC_END, 0);
	/* Pipelined, GO follows END at once: the round trip READY costs is
	 * not part of the downtime. */
	S.step = S.opts.pipelined ? STEP_GO : STEP_WAIT;
	S.st.phase = MIG_AWAIT_READY;
	S.phase_ns = time_ns();
}

static void send_go(void)
{
	mig_conn_stage(&S.conn, MIG_REC_GO, 0);
	S.go_sent = true; /* from here on, the destination may run it */
	S.st.phase = MIG_COMMIT;
	S.phase_ns = time_ns();
}

static bool over_bandwidth(uint64_t now)
{
	if (!S.opts.bandwidth_mbps)
		return false;
	uint64_t allowed = (now - S.st.start_ns) / 1000 * S.opts.bandwidth_mbps / 8;
	return S.conn.bytes_out > allowed;
}

/* Produces records while lwIP takes them, within the time budget. */
static void produce(uint64_t deadline)
{
	/* GO is owed at once, whatever the budget or the bandwidth cap say. */
	while (S.vm && mig_conn_flush(&S.conn) &&
	       (S.step == STEP_GO || (time_ns() < deadline && !over_bandwidth(time_ns())))) {
		switch (S.step) {
		case STEP_HEADER: {
			struct mig_header h = { .version = MIG_VERSION, .page_size = MIG_PAGE_SIZE,
						.source_id = mig_instance_id(), .vm_uid = S.vm->uid };
			mig_instance_name(h.source_name, sizeof(h.source_name));
			mig_header_encode(&h, mig_conn_body(&S.conn));
			mig_conn_stage(&S.conn, 0, MIG_HEADER_LEN);
			S.step = STEP_CONFIG;
			break;
		}
		case STEP_CONFIG: {
			struct mig_vm_config c;
			mig_vm_config_of(S.vm, S.opts.as_name[0] ? S.opts.as_name : S.vm->name, &c);
			mig_conn_stage(&S.conn, MIG_REC_VM_CONFIG,
				       mig_vm_config_encode(&c, mig_conn_body(&S.conn)));
			S.step = STEP_DISK_OFFERS;
			S.st.phase = MIG_PRECOPY;
			break;
		}
		case STEP_DISK_OFFERS:
			if (!send_disks_stage_offer(&S.disks, &S.conn)) {
				S.step = STEP_DISK_ANSWERS;
				S.phase_ns = time_ns();
			}
			break;
		case STEP_DISK_ANSWERS:
			if (!send_disks_answered(&S.disks) || !S.seed_answered)
				return; /* handle_reply() moves on */
			S.step = STEP_DISK_START;
			break;
		case STEP_DISK_START: {
			char err[120];
			int rc = send_disks_stage_start(&S.disks, &S.conn, deadline, err, sizeof(err));
			if (rc < 0) {
				send_fail("%s", err);
				return;
			}
			if (rc == 1) {
				S.step = STEP_PAGES;
				S.round_start_ns = time_ns();
				S.round_start_bytes = S.conn.bytes_acked;
			}
			break;
		}
		case STEP_PAGES: {
			char err[120];
			if (stage_pages())
				break;
			int rc = send_disks_stage_blocks(&S.disks, &S.conn, err, sizeof(err));
			if (rc < 0) {
				send_fail("%s", err);
				return;
			}
			if (!rc && !round_done())
				return; /* the round's last pages are still in flight */
			break;
		}
		case STEP_STATE:
			stage_state();
			break;
		case STEP_GO:
			send_go();
			S.step = STEP_WAIT;
			break;
		case STEP_WAIT:
			return;
		}
	}
}

static void got_seed(const struct mig_record *r)
{
	struct mig_seed_answer a;
	char err[100];

	if (mig_seed_decode(r->body, r->len, &a, err, sizeof(err))) {
		send_fail("bad answer from the destination: %s", err);
		return;
	}
	S.seed_answered = true;
	S.st.seed_pages = a.pages;
	S.sign_pages = (a.flags & MIG_SEED_HELD) && !S.opts.no_signatures;
}

/* Pages whose signature found nothing there: they go again, in full. */
static void got_misses(const struct mig_record *r)
{
	uint64_t gfns[MIG_SIG_MISSES_MAX];
	uint32_t n;
	char err[100];

	if (mig_sig_misses_decode(r->body, r->len, gfns, &n, err, sizeof(err))) {
		send_fail("bad answer from the destination: %s", err);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (gfns[i] >= S.st.pages_total) {
			send_fail("the destination lacks page 0x%lx, which the VM does not have",
				  (unsigned long)gfns[i]);
			return;
		}
		S.to_send[gfns[i] / 64] |= 1ull << (gfns[i] % 64);
	}
	S.st.sig_misses += n;
	S.sig_unanswered--;
	S.sig_wait_ns = time_ns();
}

/* One reply from the destination: false when none was waiting. */
static bool handle_reply(void)
{
	struct mig_record r;
	char err[120];
	int rc = mig_conn_next_record(&S.conn, &r, err, sizeof(err));

	if (rc < 0) {
		send_fail("bad reply from the destination: %s", err);
		return false;
	}
	if (rc == 0)
		return false;
	if (r.type == MIG_REC_DISK_ACCEPT && S.step <= STEP_DISK_ANSWERS) {
		if (send_disks_accept(&S.disks, r.body, r.len, err, sizeof(err)))
			send_fail("bad answer from the destination: %s", err);
	} else if (r.type == MIG_REC_SEED && !S.seed_answered) {
		got_seed(&r);
	} else if (r.type == MIG_REC_SIG_MISSES && S.sig_unanswered) {
		got_misses(&r);
	} else if (r.type == MIG_REC_REJECT) {
		char why[100];
		mig_text_decode(r.body, r.len, why, sizeof(why));
		/* Even after GO: a destination that refuses has dropped its copy
		 * (once the VM runs there it only answers RUNNING). */
		S.go_sent = false;
		send_fail("the destination refused: %s", why);
	} else if (r.type == MIG_REC_READY && S.st.phase == MIG_AWAIT_READY && !S.opts.pipelined) {
		send_go();
	} else if (r.type == MIG_REC_READY && S.opts.pipelined &&
		   (S.st.phase == MIG_COMMIT || S.step == STEP_GO)) {
		/* GO is on its way already, or goes once END is out. */
	} else if (r.type == MIG_REC_RUNNING && S.st.phase == MIG_COMMIT) {
		struct vm *vm = S.vm;
		struct vm_kept_memory kept = { 0 };
		uint64_t uid = vm->uid;
		char name[sizeof(vm->name)];
		S.st.resume_ns = time_ns();
		S.st.phase = MIG_DONE;
		S.st.bytes = S.conn.bytes_out;
		log_info("migrate %s: done in %lu ms, downtime %lu ms, %lu bytes, %u rounds",
			 vm->name, (unsigned long)((S.st.resume_ns - S.st.start_ns) / NS_PER_MS),
			 (unsigned long)((S.st.resume_ns - S.st.pause_ns) / NS_PER_MS),
			 (unsigned long)S.st.bytes, S.st.round + 1);
		finish();
		str_copy(name, vm->name, sizeof(name));
		vm_migration_handed_over(vm, &kept);
		seed_keep(uid, name, &kept); /* for the VM's return */
		if (!S.opts.keep_disks && !S.opts.disks_shared)
			send_disks_delete(&S.disks);
	} else {
		char name[24];
		send_fail("unexpected %s record from the destination",
			  mig_record_name(r.type, name, sizeof(name)));
	}
	return S.vm != NULL;
}

static bool send_poll(void);

/* The CPU time the migration takes on this side: records, hashing,
 * deltas, TLS (lwIP and the NIC driver poll apart and are not in it). */
bool migrate_send_poll(void)
{
	if (!S.vm)
		return false;
	uint64_t t0 = time_ns();
	struct mig_status *st = &S.st;
	bool busy = send_poll();
	st->cpu_ns += time_ns() - t0; /* S.st outlives S.vm */
	return busy;
}

static bool send_poll(void)
{
	if (!S.vm)
		return false;
	uint64_t now = time_ns();
	if (S.conn.out)
		str_copy(S.st.channel, mig_channel_name(&S.conn), sizeof(S.st.channel));

	if (S.vm->state == VM_STOPPED || S.vm->state == VM_CRASHED) {
		/* Nothing to hand over: the destination drops its copy. */
		send_fail("the VM %s during the migration", vm_state_name(S.vm->state));
		return false;
	}
	/* Replies first: a peer's last record can arrive with its close. A
	 * round's end waits on every SIG_MISSES: take them all. */
	for (int i = 0; i < REPLIES_PER_POLL && S.conn.connected && handle_reply(); i++)
		;
	if (S.vm && S.conn.failed)
		send_fail("%s", S.conn.error);
	if (!S.vm)
		return false;
	if (S.st.phase == MIG_CONNECTING && !S.conn.connected) {
		if (now - S.phase_ns > CONNECT_TIMEOUT_NS)
			send_fail("no answer from the destination (connect timed out)");
		return false;
	}
	if (S.conn.bytes_acked != S.last_acked || !mig_conn_unacked(&S.conn)) {
		S.last_acked = S.conn.bytes_acked;
		S.last_ack_ns = now;
	} else if (S.last_ack_ns && now - S.last_ack_ns > STALL_TIMEOUT_NS) {
		send_fail("the destination stopped acknowledging for %u s (link or peer lost)",
			  (unsigned)(STALL_TIMEOUT_NS / NS_PER_SEC));
		return false;
	}
	produce(now + POLL_BUDGET_NS);
	if (S.vm && S.sig_unanswered && time_ns() - S.sig_wait_ns > REPLY_TIMEOUT_NS)
		send_fail("the destination did not answer %u signed PAGES records within %u s",
			  S.sig_unanswered, (unsigned)(REPLY_TIMEOUT_NS / NS_PER_SEC));
	if (S.vm && S.step == STEP_DISK_ANSWERS && time_ns() - S.phase_ns > REPLY_TIMEOUT_NS)
		send_fail("the destination did not answer the disk offers within %u s",
			  (unsigned)(REPLY_TIMEOUT_NS / NS_PER_SEC));
	if (S.vm && S.step == STEP_WAIT) {
		mig_conn_flush(&S.conn);
		if (time_ns() - S.phase_ns > REPLY_TIMEOUT_NS)
			send_fail("the destination did not answer within %u s",
				  (unsigned)(REPLY_TIMEOUT_NS / NS_PER_SEC));
	}
	if (!S.vm)
		return false;
	S.st.bytes = S.conn.bytes_out;
	send_disks_status(&S.disks, &S.st.disk);
	return S.step != STEP_WAIT;
}
