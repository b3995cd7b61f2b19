/* An incoming migration's records applied to the VM being built; see
 * recv_apply.h. The VM stays paused (created, migrating) until GO. */
#include "migrate/recv_apply.h"

#include <stdarg.h>

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/bitmap.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/wire.h"
#include "hv/mm/mm.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "migrate/page_delta.h"
#include "migrate/seed.h"

static enum recv_event refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum recv_event refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return RECV_REFUSED;
}

void recv_apply_init(struct recv_apply *a, struct mig_status *st)
{
	memset(a, 0, sizeof(*a)); /* nothing of an earlier stream counts */
	a->st = st;
}

static void set_owed(struct recv_apply *a, uint64_t gfn, bool owed)
{
	uint64_t bit = 1ull << (gfn % 64);

	if (!!(a->owed[gfn / 64] & bit) == owed)
		return;
	a->owed[gfn / 64] ^= bit;
	a->owed_pages += owed ? 1 : (uint64_t)-1;
}

/* A signature: the seed's page when it has that content, else the page is
 * owed (and named in this record's SIG_MISSES). */
static bool apply_signature(struct recv_apply *a, uint64_t gfn, const uint8_t *sig, void *dst)
{
	uint64_t bit = 1ull << (gfn % 64);

	if (seed_fill(a->seed, gfn, sig, dst)) {
		a->written[gfn / 64] |= bit;
		set_owed(a, gfn, false);
		a->st->sig_pages++;
		return true;
	}
	set_owed(a, gfn, true);
	a->st->sig_misses++;
	return false;
}

static enum recv_event apply_pages(struct recv_apply *a, const struct mig_record *r,
				   struct mig_conn *c, char *err, size_t errlen)
{
	uint64_t misses[MIG_SIG_MISSES_MAX];
	uint32_t nmisses = 0;
	bool signed_any = false;
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type type;
	const uint8_t *data;
	int rc;
	uint64_t poisoned = 0, first_poisoned = 0;
	struct vm *vm = a->vm;

	if (mig_pages_open(&rd, r->body, r->len, err, errlen))
		return RECV_REFUSED;
	while ((rc = mig_pages_next(&rd, &gfn, &type, &data, err, errlen)) == 1) {
		if (gfn >= vm->mem.size / MIG_PAGE_SIZE)
			return refuse(err, errlen, "page 0x%lx is outside the VM's %lu MiB",
				      (unsigned long)gfn, (unsigned long)(vm->mem.size >> 20));
		void *dst = gmem_ptr(&vm->mem, gfn * MIG_PAGE_SIZE);
		uint64_t bit = 1ull << (gfn % 64);
		if (type == MIG_PAGE_SIGNATURE) {
			if (!a->seed)
				return refuse(err, errlen, "a signature for page 0x%lx, but this side "
					      "offered no seed", (unsigned long)gfn);
			signed_any = true;
			if (!apply_signature(a, gfn, data, dst))
				misses[nmisses++] = gfn;
			a->st->pages_sent++;
			continue;
		}
		if (type == MIG_PAGE_DELTA) {
			/* Against the version here; an owed page stays owed. */
			if (page_delta_apply(dst, data, rd.data_len))
				return refuse(err, errlen, "a malformed delta for page 0x%lx",
					      (unsigned long)gfn);
			a->written[gfn / 64] |= bit;
			a->st->delta_pages++;
			a->st->delta_bytes += rd.data_len;
			a->st->pages_sent++;
			continue;
		}
		set_owed(a, gfn, false);
		if (type == MIG_PAGE_NORMAL) {
			memcpy(dst, data, MIG_PAGE_SIZE);
			a->written[gfn / 64] |= bit;
		} else {
			/* Fresh guest memory is zero: clear only what the stream wrote. */
			if (a->written[gfn / 64] & bit)
				memset(dst, 0, MIG_PAGE_SIZE);
			a->written[gfn / 64] &= ~bit;
			if (type == MIG_PAGE_ZERO) {
				a->st->zero_pages++;
			} else {
				/* The same guest page fails here as it did there. */
				poison_guest_page_quiet(vm, gfn * MIG_PAGE_SIZE);
				a->st->poison_pages++;
				if (!poisoned++)
					first_poisoned = gfn * MIG_PAGE_SIZE;
			}
		}
		a->st->pages_sent++;
	}
	/* One line per record, not per page: a record full of them must not
	 * keep the console (a polled UART) busy for seconds. */
	if (poisoned)
		log_warn("migrate: %lu page%s of VM %s arrived poisoned (first GPA 0x%lx)",
			 (unsigned long)poisoned, poisoned == 1 ? "" : "s", vm->name,
			 (unsigned long)first_poisoned);
	if (rc < 0)
		return RECV_REFUSED;
	/* Every record with signatures gets its answer, misses or none: the
	 * source counts them before it sizes its next round. */
	if (signed_any)
		mig_conn_stage(c, MIG_REC_SIG_MISSES,
			       mig_sig_misses_encode(misses, nmisses, mig_conn_body(c)));
	return RECV_APPLIED;
}

static enum recv_event got_config(struct recv_apply *a, const struct mig_record *r,
				  struct mig_conn *conn, char *err, size_t errlen)
{
	struct mig_vm_config c;

	if (mig_vm_config_decode(r->body, r->len, &c, err, errlen))
		return RECV_REFUSED;
	str_copy(a->st->vm, c.name, sizeof(a->st->vm));
	a->vm = vm_create_incoming(c.name, c.mem_bytes, c.vcpus, c.image, c.cmdline, err,
				   errlen);
	if (!a->vm)
		return RECV_REFUSED;
	a->state.nvcpus = c.vcpus;
	a->vm->unbacked_stops = c.flags & MIG_VM_UNBACKED_STOP;
	a->vm->uid = a->vm_uid;
	a->st->pages_total = c.mem_bytes / MIG_PAGE_SIZE;
	a->written = kzalloc((a->st->pages_total + 63) / 64 * 8);
	a->owed = kzalloc((a->st->pages_total + 63) / 64 * 8);
	if (!a->written || !a->owed)
		return refuse(err, errlen, "out of memory for the page maps");
	/* What this side holds of the VM from an earlier stay (its answer). */
	a->seed = seed_get(a->vm_uid, c.mem_bytes);
	struct mig_seed_answer sa = { 0, 0 };
	if (a->seed)
		sa = (struct mig_seed_answer){ MIG_SEED_HELD, seed_usable_pages(a->seed) };
	a->st->seed_pages = sa.pages;
	mig_conn_stage(conn, MIG_REC_SEED, mig_seed_encode(&sa, mig_conn_body(conn)));
	a->seed_sent_ns = time_ns();
	return RECV_VM_BUILT;
}

static enum recv_event got_state(struct recv_apply *a, const struct mig_record *r, char *err,
				 size_t errlen)
{
	struct mig_vm_state *s = &a->state;
	int rc;
	unsigned bit;

	switch (r->type) {
	case MIG_REC_VCPU:
		rc = mig_vcpu_decode(r->body, r->len, &s->vcpu, err, errlen);
		bit = RECV_HAVE_VCPU;
		break;
	case MIG_REC_LAPIC:
		rc = mig_lapic_decode(r->body, r->len, &s->lapic, err, errlen);
		bit = RECV_HAVE_LAPIC;
		break;
	case MIG_REC_UART:
		rc = mig_uart_decode(r->body, r->len, &s->uart, err, errlen);
		bit = RECV_HAVE_UART;
		break;
	case MIG_REC_MODULES:
		rc = mig_modules_decode(r->body, r->len, &s->modules, err, errlen);
		bit = RECV_HAVE_MODULES;
		break;
	default:
		rc = mig_platform_decode(r->body, r->len, &s->platform, err, errlen);
		bit = RECV_HAVE_PLATFORM;
		break;
	}
	if (rc)
		return RECV_REFUSED;
	a->have |= bit;
	return RECV_APPLIED;
}

/* An application processor's state: one record per AP the VM has. */
static enum recv_event got_ap(struct recv_apply *a, const struct mig_record *r, char *err,
			      size_t errlen)
{
	struct mig_ap ap;

	if (mig_ap_decode(r->body, r->len, &ap, err, errlen))
		return RECV_REFUSED;
	if (ap.index >= a->state.nvcpus)
		return refuse(err, errlen, "AP_STATE record for vCPU %u of a VM with %u", ap.index,
			      a->state.nvcpus);
	if (a->aps_have & (1u << ap.index))
		return refuse(err, errlen, "two AP_STATE records for vCPU %u", ap.index);
	a->state.ap[ap.index - 1] = ap;
	a->aps_have |= 1u << ap.index;
	return RECV_APPLIED;
}

/* Optional per vCPU (the source sends one only for MSRs off their
 * power-on values), applied at GO with the vCPUs. */
static enum recv_event got_vcpu_msrs(struct recv_apply *a, const struct mig_record *r,
				     char *err, size_t errlen)
{
	struct mig_vcpu_msrs m;

	if (!a->vm)
		return refuse(err, errlen, "VCPU_MSRS record before VM_CONFIG");
	if (mig_vcpu_msrs_decode(r->body, r->len, &m, err, errlen))
		return RECV_REFUSED;
	if (m.index >= a->state.nvcpus)
		return refuse(err, errlen, "VCPU_MSRS record for vCPU %u of a VM with %u", m.index,
			      a->state.nvcpus);
	if (a->msrs_have & (1u << m.index))
		return refuse(err, errlen, "two VCPU_MSRS records for vCPU %u", m.index);
	a->state.msrs[m.index] = m;
	a->msrs_have |= 1u << m.index;
	return RECV_APPLIED;
}

/* Kept for GO: the VM is placed as on the source where this instance has
 * the CPUs (vm_migration_arrived). */
static enum recv_event got_placement(struct recv_apply *a, const struct mig_record *r,
				     char *err, size_t errlen)
{
	struct mig_placement p;

	if (!a->vm)
		return refuse(err, errlen, "PLACEMENT record before VM_CONFIG");
	if (a->state.placement.count)
		return refuse(err, errlen, "two PLACEMENT records");
	if (mig_placement_decode(r->body, r->len, &p, err, errlen))
		return RECV_REFUSED;
	if (p.count != a->state.nvcpus)
		return refuse(err, errlen, "PLACEMENT record for %u vCPUs of a VM with %u", p.count,
			      a->state.nvcpus);
	a->state.placement = p;
	return RECV_APPLIED;
}

/* One device's state: kept until END, where every device checks its own. */
static enum recv_event got_device(struct recv_apply *a, const struct mig_record *r, char *err,
				  size_t errlen)
{
	struct mig_vm_state *s = &a->state;

	if (s->ndev == MIG_DEVICES_MAX)
		return refuse(err, errlen, "more DEVICE records than devices");
	struct mig_device *d = &s->dev[s->ndev];
	if (mig_device_decode(r->body, r->len, d, err, errlen))
		return RECV_REFUSED;
	for (size_t i = 0; i < s->ndev; i++)
		if (s->dev[i].id == d->id)
			return refuse(err, errlen, "two DEVICE records for device %u", d->id);
	s->ndev++;
	return RECV_APPLIED;
}

/* END: the VM is complete; its devices take their state now (it does not
 * run before GO), so a state they refuse is refused before READY. */
static enum recv_event got_end(struct recv_apply *a, char *err, size_t errlen)
{
	uint32_t aps_all = ((1u << a->state.nvcpus) - 1) & ~1u;

	if (a->have != RECV_HAVE_ALL)
		return refuse(err, errlen, "END before the vCPU and device state");
	if (a->owed_pages)
		return refuse(err, errlen, "END with %lu signed-for pages never sent (first 0x%lx)",
			      (unsigned long)a->owed_pages,
			      (unsigned long)bitmap_next_set(a->owed, a->st->pages_total, 0));
	if (a->aps_have != aps_all) {
		unsigned missing = 1;
		while (a->aps_have & (1u << missing))
			missing++;
		return refuse(err, errlen, "END before the state of vCPU %u (the VM has %u)",
			      missing, a->state.nvcpus);
	}
	if (recv_disks_adopt(&a->disks, a->vm, err, errlen) ||
	    mig_vm_apply(a->vm, &a->state, err, errlen))
		return RECV_REFUSED;
	a->ended = true;
	return RECV_COMPLETE;
}

/* arrived: the VM runs here, so its seed has served. */
static void release_maps(struct recv_apply *a, bool arrived)
{
	if (a->seed)
		seed_put(a->seed, arrived);
	a->seed = NULL;
	kfree(a->written);
	kfree(a->owed);
	a->written = a->owed = NULL;
	a->owed_pages = 0;
}

static enum recv_event got_go(struct recv_apply *a, char *err, size_t errlen)
{
	struct vm *vm = a->vm;

	if (recv_disks_commit(&a->disks, vm, err, errlen))
		return RECV_REFUSED;
	recv_disks_status(&a->disks, &a->st->disk);
	a->disks.n = 0; /* they are the VM's disks now */
	mig_vm_restore(vm, &a->state, rdtsc());
	/* As it was on the source: running, paused by the operator, or never
	 * started. */
	const struct mig_placement *p = &a->state.placement;
	vm_migration_arrived(vm,
			     a->state.platform.run_state == MIG_RUN_CREATED  ? VM_CREATED
			     : a->state.platform.run_state == MIG_RUN_PAUSED ? VM_PAUSED
									     : VM_RUNNING,
			     p->count ? p->cpu : NULL);
	a->vm = NULL;
	release_maps(a, true);
	return RECV_ARRIVED;
}

static enum recv_event dispatch(struct recv_apply *a, const struct mig_record *r,
				struct mig_conn *c, const char *what, char *err, size_t errlen)
{
	switch (r->type) {
	case MIG_REC_VM_CONFIG:
		if (a->vm)
			return refuse(err, errlen, "a second VM_CONFIG record");
		return got_config(a, r, c, err, errlen);
	case MIG_REC_PAGES:
		return apply_pages(a, r, c, err, errlen);
	case MIG_REC_VCPU:
	case MIG_REC_LAPIC:
	case MIG_REC_UART:
	case MIG_REC_PLATFORM:
	case MIG_REC_MODULES:
		return got_state(a, r, err, errlen);
	case MIG_REC_DEVICE:
		return got_device(a, r, err, errlen);
	case MIG_REC_AP_STATE:
		return got_ap(a, r, err, errlen);
	case MIG_REC_VCPU_MSRS:
		return got_vcpu_msrs(a, r, err, errlen);
	case MIG_REC_END:
		return got_end(a, err, errlen);
	case MIG_REC_GO:
		if (!a->ended)
			return refuse(err, errlen, "GO before END");
		return got_go(a, err, errlen);
	case MIG_REC_ABORT:
		return refuse(err, errlen, "the source gave up");
	case MIG_REC_PLACEMENT:
		return got_placement(a, r, err, errlen);
	case MIG_REC_ROUND:
		if (r->len >= 4)
			a->st->round = get_le32(r->body);
		/* The source paused the guest one link delay and the time it
		 * says ago (a claim past this side's clock's start is ignored). */
		if (r->len >= 16 && (get_le32(r->body + 8) & MIG_ROUND_PAUSED) && !a->st->pause_ns) {
			uint64_t now = time_ns(), ago = (uint64_t)get_le32(r->body + 12) * 1000;
			a->st->pause_ns = ago < now ? now - ago : now;
		}
		return RECV_APPLIED;
	default:
		if (recv_disks_handles(r->type)) {
			if (recv_disks_record(&a->disks, r->type, r->body, r->len, c, err, errlen))
				return RECV_REFUSED;
			return RECV_APPLIED;
		}
		if (!(r->type & MIG_TYPE_OPTIONAL))
			return refuse(err, errlen, "unknown mandatory %s record", what);
		return RECV_APPLIED; /* optional records this version does not know: skipped */
	}
}

enum recv_event recv_apply_record(struct recv_apply *a, const struct mig_record *r,
				  struct mig_conn *c, char *err, size_t errlen)
{
	char name[24];
	const char *what = mig_record_name(r->type, name, sizeof(name));

	if (a->ended && r->type != MIG_REC_GO && r->type != MIG_REC_ABORT)
		return refuse(err, errlen, "%s record after END", what);
	if (!a->vm && r->type != MIG_REC_VM_CONFIG && r->type != MIG_REC_ABORT &&
	    !(r->type & MIG_TYPE_OPTIONAL))
		return refuse(err, errlen, "%s record before VM_CONFIG", what);
	/* The source sends these only once SEED reached it: a round trip. */
	if (!a->rtt_ns && a->seed_sent_ns &&
	    (r->type == MIG_REC_PAGES || r->type == MIG_REC_DISK_START))
		a->rtt_ns = time_ns() - a->seed_sent_ns;
	enum recv_event ev = dispatch(a, r, c, what, err, errlen);
	recv_disks_status(&a->disks, &a->st->disk);
	return ev;
}

void recv_apply_discard(struct recv_apply *a)
{
	if (a->vm) {
		vm_migration_discard(a->vm);
		a->vm = NULL;
	}
	recv_disks_status(&a->disks, &a->st->disk);
	recv_disks_abandon(&a->disks); /* after the VM let go of them */
	release_maps(a, false);
}
