/* libFuzzer target: an incoming live migration applied to a real VM. The
 * input is what a source sends: the stream header and records. Each
 * record is decoded (migrate/stream.c) and applied as recv.c applies it
 * (migrate/recv_apply.c: pages, state, devices, disks into a datastore,
 * END, GO), to a VM built by hv/vm/vm.c on a backend that never runs a
 * guest (fuzz_vm_host.c), with guest memory from malloc. Half of the
 * mutations drop, repeat, reorder, retype or change whole records
 * (fuzz_stream_mutator.c).
 *
 * Beyond what ASan and UBSan catch, each input must keep these:
 * - a refused record gives a printable reason, and the partial VM, its
 *   memory and the disks' open handles are gone (fragments stay);
 * - until GO the VM exists only as a paused, migrating copy, and nothing
 *   is loaded into the backend;
 * - READY (END accepted) only once the VM_CONFIG, every state record,
 *   every device's state and every offered disk's DISK_END arrived, and
 *   guest memory then holds exactly what the PAGES records said;
 * - at GO the VM takes the run state the source had, with a vCPU state
 *   vcpu_check accepts (and an MXCSR FXRSTOR accepts);
 * - everything the console would show is printable;
 * - afterwards no memory is held, and the datastore is consistent.
 * A violated one aborts with what was wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vm/poison.h"
#include "hv/vm/vm.h"
#include "migrate/page_delta.h"
#include "migrate/recv_apply.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_recv_store.h"
#include "tests/fuzz/fuzz_vm_host.h"

#define MAX_PAGES (FUZZ_VM_MEM_MAX / MIG_PAGE_SIZE + 2)

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void broken(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_mig_recv: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* How an input ended, with FUZZ_LOG=1 (fuzz_env.c). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("FUZZ_LOG"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static bool printable(const char *s, size_t n, bool newlines)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t' && !(newlines && s[i] == '\n')) ||
		    (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static void check_log(const char *line)
{
	if (!printable(line, strlen(line), false))
		broken("a log line has control or non-ASCII bytes: \"%s\"", line);
}

static void check_console(const char *text, size_t len)
{
	if (!printable(text, len, true))
		broken("the console was given control or non-ASCII bytes");
}

/* What the records that were applied said: what the VM must hold. */
static struct model {
	bool built, complete;
	unsigned have;          /* RECV_HAVE_* */
	uint32_t devices;       /* bit per DEVICE id */
	unsigned disks;         /* DISK_OFFERs */
	uint32_t disks_ended;   /* bit per disk index */
	uint8_t run_state;
	const uint8_t *data[MAX_PAGES]; /* what the page holds; NULL: zero */
	bool poisoned[MAX_PAGES];
} M;

/* Pages deltas changed (M.data points here then); not reset per input. */
static uint8_t patched[MAX_PAGES][MIG_PAGE_SIZE];
static struct mig_status st;
static struct recv_apply A;
static struct mig_conn conn;

static void note_pages(const struct mig_record *r)
{
	struct mig_pages_reader rd;
	uint64_t gfn;
	enum mig_page_type type;
	const uint8_t *data;
	char err[120];

	if (mig_pages_open(&rd, r->body, r->len, err, sizeof(err)))
		broken("a PAGES record was applied that does not open: %s", err);
	while (mig_pages_next(&rd, &gfn, &type, &data, err, sizeof(err)) == 1) {
		if (gfn >= MAX_PAGES)
			broken("page 0x%lx applied beyond any VM here", (unsigned long)gfn);
		if (type == MIG_PAGE_DELTA) {
			/* Against what the page held: the model applies it too. */
			uint8_t *p = patched[gfn];
			if (M.data[gfn] != p) {
				if (M.data[gfn])
					memcpy(p, M.data[gfn], MIG_PAGE_SIZE);
				else
					memset(p, 0, MIG_PAGE_SIZE);
			}
			if (page_delta_apply(p, data, rd.data_len))
				broken("a delta was applied that does not apply");
			M.data[gfn] = p;
			continue;
		}
		M.data[gfn] = type == MIG_PAGE_NORMAL ? data : NULL;
		M.poisoned[gfn] |= type == MIG_PAGE_POISON; /* a lost page stays lost */
	}
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void note_applied(const struct mig_record *r)
{
	switch (r->type) {
	case MIG_REC_PAGES:
		note_pages(r);
		break;
	case MIG_REC_VCPU:
		M.have |= RECV_HAVE_VCPU;
		break;
	case MIG_REC_LAPIC:
		M.have |= RECV_HAVE_LAPIC;
		break;
	case MIG_REC_UART:
		M.have |= RECV_HAVE_UART;
		break;
	case MIG_REC_MODULES:
		M.have |= RECV_HAVE_MODULES;
		break;
	case MIG_REC_PLATFORM:
		M.have |= RECV_HAVE_PLATFORM;
		M.run_state = r->body[0];
		break;
	case MIG_REC_DEVICE:
		M.devices |= 1u << le32(r->body);
		break;
	case MIG_REC_DISK_OFFER:
		M.disks++;
		break;
	case MIG_REC_DISK_END:
		M.disks_ended |= 1u << le32(r->body);
		break;
	default:
		break;
	}
}

/* Guest memory against the model, before END: the VM is not touched by
 * anything but PAGES until then. */
static void check_memory(const struct vm *vm)
{
	static const uint8_t zero[MIG_PAGE_SIZE];

	for (uint64_t gfn = 0; gfn < vm->mem.size / MIG_PAGE_SIZE; gfn++) {
		uint64_t gpa = gfn * MIG_PAGE_SIZE;
		if (M.poisoned[gfn] != vm_page_poisoned(vm, gpa))
			broken("page 0x%lx is %spoisoned, the stream said otherwise",
			       (unsigned long)gfn, M.poisoned[gfn] ? "not " : "");
		const uint8_t *want = M.data[gfn] ? M.data[gfn] : zero;
		if (!M.poisoned[gfn] && memcmp(gmem_ptr(&vm->mem, gpa), want, MIG_PAGE_SIZE))
			broken("page 0x%lx does not hold what the stream sent last",
			       (unsigned long)gfn);
	}
}

static void check_complete(void)
{
	uint32_t need = ((1u << MIG_DEV_COUNT) - 1) & ~1u;

	for (unsigned k = 0; k < M.disks; k++) {
		need |= 1u << (MIG_DEV_VIRTIO_BLK + k);
		if (!(M.disks_ended & (1u << k)))
			broken("READY without disk %u's DISK_END", k);
	}
	if (!M.built || M.have != RECV_HAVE_ALL)
		broken("READY without VM_CONFIG or a state record (have 0x%x)", M.have);
	if (M.devices != need)
		broken("READY with device records 0x%x, the VM has 0x%x", M.devices, need);
}

/* GO: the run state the source had, and a vCPU the backend would enter,
 * judged as a VCPU record is. */
static void check_arrived(struct vm *vm, uint64_t uid)
{
	const struct fuzz_vcpu *f = vm->vcpus[0].vendor;
	struct mig_vcpu v = { .s = f->state };
	enum vm_state want = M.run_state == MIG_RUN_CREATED  ? VM_CREATED
			     : M.run_state == MIG_RUN_PAUSED ? VM_PAUSED
							     : VM_RUNNING;
	char err[160];

	if (vm->migrating || vm->state != want || vm->uid != uid)
		broken("arrived as %s (migrating %d), want %s", vm_state_name(vm->state),
		       vm->migrating, vm_state_name(want));
	if (f->set_state_calls != 1)
		broken("the backend was given the vCPU state %u times", f->set_state_calls);
	memcpy(v.fpu, vm->vcpus[0].fpu, sizeof(v.fpu));
	v.pending_exception = vm->vcpus[0].pending_exception;
	v.exception = vm->vcpus[0].exception;
	v.msr_tsc_aux = vm->vcpus[0].msr_tsc_aux;
	if (mig_vcpu_check(&v, err, sizeof(err)))
		broken("the restored vCPU fails vcpu_check: %s", err);
	if (le32(&v.fpu[24]) & ~MIG_MXCSR_MASK)
		broken("the restored MXCSR 0x%x faults in FXRSTOR", le32(&v.fpu[24]));
	if (vm->ndisks != M.disks || vm->nmodules > VM_MAX_MODULES ||
	    vm->out.line_len >= VM_LINE_MAX)
		broken("arrived with %u disks (%u offered), %zu modules, a %zu-byte line",
		       vm->ndisks, M.disks, vm->nmodules, vm->out.line_len);
	for (size_t i = 0; i < vm->nmodules; i++)
		if (!memchr(vm->modules[i], 0, VM_MODULE_SPEC_MAX) ||
		    !printable(vm->modules[i], strlen(vm->modules[i]), false))
			broken("module %zu is unterminated or not printable", i);
}

/* Until GO: one paused copy, found by its name, nothing in the backend. */
static void check_building(void)
{
	struct vm *vm = A.vm;

	if (!vm)
		return;
	if (!vm->migrating || vm->state != VM_CREATED || vm_find(st.vm) != vm)
		broken("the incoming VM is %s (migrating %d) before GO", vm_state_name(vm->state),
		       vm->migrating);
	if (((const struct fuzz_vcpu *)vm->vcpus[0].vendor)->set_state_calls)
		broken("vCPU state loaded before GO");
}

static void check_gone(void)
{
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_slot(i))
			broken("VM %s is left behind", vm_slot(i)->name);
	if (A.vm || A.written || A.disks.n)
		broken("the receiver holds on to a discarded VM");
}

/* No disk or fragment stays open once the transfer is over. */
static void check_disks_closed(void)
{
	struct store_disk_info d;
	struct store_fragment_info f;

	for (unsigned i = 0; store_disk_info_at(fuzz_datastore, i, &d) == STORE_OK; i++)
		if (d.open_writers || d.open_readers)
			broken("disk %s is left open", d.name);
	for (unsigned i = 0; store_fragment_info_at(fuzz_datastore, i, &f) == STORE_OK; i++)
		if (f.open)
			broken("fragment %u (%s) is left open", f.id, f.name);
}

static void refused(const char *err)
{
	if (!err[0] || !printable(err, strlen(err), false))
		broken("refused with an empty or unprintable reason \"%s\"", err);
	say("refused: %s", err);
	recv_apply_discard(&A);
	check_gone();
}

/* What may answer what: DISK_ACCEPT a DISK_OFFER, SEED (holding nothing:
 * there are no seeds here) the VM_CONFIG that built the VM. */
static bool answer_fits(uint32_t answer, const struct mig_record *r, enum recv_event ev)
{
	if (answer == MIG_REC_DISK_ACCEPT)
		return r->type == MIG_REC_DISK_OFFER && ev == RECV_APPLIED;
	if (answer != MIG_REC_SEED || r->type != MIG_REC_VM_CONFIG || ev != RECV_VM_BUILT ||
	    fuzz_replies.n != 1)
		return false;
	struct mig_seed_answer sa;
	char err[80];
	return !mig_seed_decode(conn.out + MIG_RECORD_HDR_LEN, conn.out_len - MIG_RECORD_HDR_LEN,
				&sa, err, sizeof(err)) && !sa.flags && !sa.pages;
}

static void check_replies(const struct mig_record *r, enum recv_event ev)
{
	for (unsigned i = 0; i < fuzz_replies.n; i++)
		if (!answer_fits(fuzz_replies.type[i], r, ev))
			broken("record 0x%x staged 0x%x", r->type, fuzz_replies.type[i]);
	fuzz_replies.n = 0;
	fuzz_conn_sent(&conn);
}

/* One record: 1 when the stream goes on. */
static int feed(const struct mig_record *r, uint64_t uid)
{
	char err[200] = "";

	if (r->type == MIG_REC_END && A.vm && !A.ended)
		check_memory(A.vm);
	enum recv_event ev = recv_apply_record(&A, r, &conn, err, sizeof(err));
	check_replies(r, ev);
	bool builds = r->type == MIG_REC_VM_CONFIG && !M.built;
	if (ev != RECV_REFUSED && (ev == RECV_VM_BUILT) != builds)
		broken("record 0x%x gave event %d", r->type, ev);
	switch (ev) {
	case RECV_REFUSED:
		refused(err);
		return 0;
	case RECV_VM_BUILT:
		M.built = true;
		break;
	case RECV_COMPLETE:
		if (r->type != MIG_REC_END)
			broken("READY on record 0x%x", r->type);
		check_complete();
		M.complete = true;
		say("READY");
		break;
	case RECV_ARRIVED: {
		struct vm *vm = vm_find(st.vm);
		if (r->type != MIG_REC_GO || !M.complete || !vm || A.vm)
			broken("RUNNING on record 0x%x", r->type);
		check_arrived(vm, uid);
		say("RUNNING as %s", vm_state_name(vm->state));
		vm_destroy(vm); /* the operator's turn: it goes as any VM goes */
		check_gone();
		return 0;
	}
	case RECV_APPLIED:
		note_applied(r);
		break;
	}
	check_building();
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_header h;
	struct mig_record r;
	char err[160];

	if (!conn.out) {
		fuzz_conn_init(&conn);
		fuzz_log_hook = check_log;
		fuzz_console_hook = check_console;
		fuzz_datastore_opener = recv_store_open;
	}
	/* recv.c refuses these before any record: nothing to apply. */
	if (size < MIG_HEADER_LEN || mig_header_decode(data, size, &h, err, sizeof(err)) ||
	    (h.flags & MIG_HDR_DISK_ONLY))
		return 0;
	size_t live = fuzz_mm_live();
	memset(&M, 0, sizeof(M));
	memset(&st, 0, sizeof(st));
	recv_apply_init(&A, &st);
	A.vm_uid = h.vm_uid;
	for (size_t pos = MIG_HEADER_LEN;;) {
		long n = mig_record_decode(data + pos, size - pos, MIG_MAX_BODY, &r, err,
					   sizeof(err));
		if (n < 0) {
			refused(err); /* the connection fails the stream */
			break;
		}
		if (n == 0) {
			say("the stream ends");
			recv_apply_discard(&A); /* the source went away */
			check_gone();
			break;
		}
		pos += (size_t)n;
		if (!feed(&r, h.vm_uid))
			break;
	}
	if (fuzz_datastore) {
		check_disks_closed();
		if (recv_store_close(fuzz_datastore, err, sizeof(err)))
			broken("%s", err);
		fuzz_datastore = NULL;
	}
	if (fuzz_mm_live() != live)
		broken("%zu blocks allocated and not freed", fuzz_mm_live() - live);
	return 0;
}
