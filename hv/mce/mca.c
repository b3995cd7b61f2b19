/* Machine-check banks and the handling of uncorrected memory errors; see
 * mca.h. The #MC handler does the minimum (read, clear, queue); the main
 * loop does the rest with the allocator and VMs in a consistent state. */
#include "hv/mce/mca.h"

#include "hv/core/log.h"
#include "hv/core/mainloop.h"
#include "hv/core/panic.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mce/mce_severity.h"
#include "hv/mce/retired_list.h"
#include "hv/mm/mm.h"
#include "hv/smp/smp.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_exit.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#define POLL_NS (10 * NS_PER_MS)
#define QUEUE 16
#define MCG_LMCE_S (1ull << 3) /* signalled to this logical processor only */

struct mce_error {
	uint64_t status, addr, misc, seen_ns;
	unsigned bank;
};

/* Errors waiting for the main loop. The #MC handler can interrupt the main
 * loop anywhere (IF does not mask it) but never the reverse, and cannot
 * nest (MCIP): so the handler has a ring of its own that only it fills and
 * only the main loop drains, and the main loop's own reads (polling, VM
 * exits) go to a second ring that nothing else touches. Each CPU has its
 * pair (an #MC may be broadcast to all; guests exit on every CPU); the
 * main loop drains them all. */
struct mce_ring {
	struct mce_error e[QUEUE];
	volatile unsigned head, tail;
};

static struct mce_stats stats;
struct mce_rings {
	struct mce_ring handler, loop;
	uint64_t next_poll; /* a started CPU's, of its own banks */
};
static struct mce_rings boot_cpu_rings;
static struct mce_rings *rings[CPU_MAX] = { &boot_cpu_rings };
/* One past the highest CPU index with rings: the main loop looks at these
 * on every turn, not at all CPU_MAX slots (that walk was 10 % of a
 * migration destination's CPU, profiled). */
static uint32_t rings_end = 1;
#define from_handler (rings[this_cpu_index()]->handler)
#define from_loop (rings[this_cpu_index()]->loop)
static uint64_t next_poll;
static bool ser_p; /* MCG_CAP.SER_P: MCi_STATUS S and AR are defined */
static struct mce_rendezvous rendezvous;

const struct mce_stats *mce_stats(void)
{
	return &stats;
}

static void ring_push(struct mce_ring *r, const struct mce_error *e)
{
	if (r->head - r->tail >= QUEUE) {
		__atomic_fetch_add(&stats.dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	r->e[r->head % QUEUE] = *e;
	__atomic_fetch_add(&this_cpu()->mce_unhandled, 1, __ATOMIC_RELAXED);
	barrier(); /* the entry is complete before the main loop can see it */
	r->head++;
}

/* Reads every bank with a valid error into 'r', clears it, and judges it
 * as it goes (so nothing is missed when the ring is full). */
static struct mce_scan collect(struct mce_ring *r)
{
	struct mce_scan scan = { 0 };

	for (unsigned i = 0; i < stats.banks; i++) {
		uint64_t st = rdmsr(MSR_MC_STATUS(i));
		if (!(st & MCI_VAL))
			continue;
		struct mce_bank_record b = {
			.status = st,
			.addr = st & MCI_ADDRV ? mce_page_of(rdmsr(MSR_MC_ADDR(i))) : 0,
			.misc = st & MCI_MISCV ? rdmsr(MSR_MC_MISC(i)) : 0,
		};
		ring_push(r, &(struct mce_error){ b.status, b.addr, b.misc, time_ns(), i });
		wrmsr(MSR_MC_STATUS(i), 0);
		mce_scan_bank(&scan, &b, ser_p);
	}
	return scan;
}

/* The last thing before a panic: the bad page goes to NVRAM so the next
 * boot avoids it (unless the main loop was saving when the #MC came: the
 * firmware's variable services are not reentrant). */
static void save_before_panic(uint64_t addr)
{
	static int32_t first = -1;
	int32_t self = (int32_t)this_cpu_index(), expected = -1;

	/* A broadcast #MC reaches every CPU: the first with a fatal verdict
	 * saves and reports, the others stop here (the firmware's variable
	 * services must not run on two CPUs at once). */
	if (!__atomic_compare_exchange_n(&first, &expected, self, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST) && expected != self)
		cpu_halt_forever();
	if (addr && !retired_list_saving())
		retired_list_add(addr, RETIRE_UNCORRECTED);
}

static __attribute__((noreturn)) void panic_context_corrupt(uint64_t addr)
{
	save_before_panic(addr);
	panic("machine check: processor context corrupt (address 0x%lx)", (unsigned long)addr);
}

/* Intel broadcasts a #MC to every CPU unless it says otherwise (LMCE);
 * AMD signals the CPU that saw the error only. */
static bool all_cpus_take_it(uint64_t mcg)
{
	return stats.broadcast && !(mcg & MCG_LMCE_S) && smp_cpus_online() > 1;
}

static bool fatal(enum mce_verdict v)
{
	return v == MCE_PANIC_CONTEXT_CORRUPT || v == MCE_PANIC_CONSUMED ||
	       v == MCE_PANIC_NO_RESTART_IP;
}

static struct mce_rv_ticket call_in(void)
{
	rendezvous.expected = smp_cpus_online();
	return mce_rv_call_in(&rendezvous, (int32_t)this_cpu_index());
}

/* After its scan: another CPU's verdict is fatal and this one's is not:
 * it panics, this CPU stops here. */
static void settle(const struct mce_rv_ticket *t, enum mce_verdict v)
{
	if (mce_rv_scanned(&rendezvous, t, fatal(v)) && !fatal(v))
		cpu_halt_forever();
}

/* The handler: the verdict (mce_severity.h) says whether the hypervisor
 * can resume, and how; for a broadcast, one verdict for every CPU
 * (mce_rendezvous.h). */
static void on_machine_check(struct trap_frame *f)
{
	uint64_t mcg = rdmsr(MSR_MCG_STATUS);
	bool together = all_cpus_take_it(mcg);
	struct mce_rv_ticket t = { 0 };

	__atomic_fetch_add(&stats.exceptions, 1, __ATOMIC_RELAXED);
	if (together)
		t = call_in();
	struct mce_scan scan = collect(&from_handler);
	struct mce_context ctx = { .mcg_status = mcg, .ip_has_fixup = trap_has_fixup(f->rip) };
	struct mce_judgement j = mce_judge(&scan, &ctx);

	if (together)
		settle(&t, j.verdict);
	switch (j.verdict) {
	case MCE_PANIC_CONTEXT_CORRUPT:
		panic_context_corrupt(j.save_addr);
	case MCE_TAKE_COPY_FIXUP:
		trap_apply_fixup(f);
		__atomic_fetch_add(&stats.copies_interrupted, 1, __ATOMIC_RELAXED);
		break;
	case MCE_PANIC_CONSUMED:
		save_before_panic(j.save_addr);
		panic("machine check: the hypervisor consumed poisoned memory at 0x%lx "
		      "(RIP 0x%lx)", (unsigned long)j.save_addr, (unsigned long)f->rip);
	case MCE_PANIC_NO_RESTART_IP:
		save_before_panic(j.save_addr);
		panic("machine check with no restart IP at RIP 0x%lx", (unsigned long)f->rip);
	default:
		break; /* queued by collect() for the main loop */
	}
	if (together)
		mce_rv_leave(&rendezvous, &t);
	wrmsr(MSR_MCG_STATUS, 0); /* MCIP off: a further #MC is an exception again */
}

bool mce_guest_exit(void)
{
	if (!stats.available)
		return true;
	uint64_t mcg = rdmsr(MSR_MCG_STATUS);
	bool together = all_cpus_take_it(mcg);
	struct mce_rv_ticket t = { 0 };
	__atomic_fetch_add(&stats.guest_exits, 1, __ATOMIC_RELAXED);
	if (together)
		t = call_in();
	struct mce_scan scan = collect(&from_loop);
	struct mce_context ctx = { .mcg_status = mcg, .in_guest = true };
	struct mce_judgement j = mce_judge(&scan, &ctx);
	if (together)
		settle(&t, j.verdict);
	if (j.verdict == MCE_PANIC_CONTEXT_CORRUPT)
		panic_context_corrupt(j.save_addr);
	if (together)
		mce_rv_leave(&rendezvous, &t);
	wrmsr(MSR_MCG_STATUS, 0);
	return j.verdict != MCE_GUEST_CANNOT_RESUME;
}

static bool poll_banks(void)
{
	mce_poll();
	return false; /* never keeps the loop awake: the banks are read every POLL_NS */
}

static struct poller mce_poller = { .name = "mce", .poll = poll_banks, .stage = POLL_SERVICES };

/* A started CPU's own banks, every POLL_NS between its turns: errors that
 * raise no #MC (corrected ones, QEMU TCG's #MC handed to a guest) are only
 * found so, and only that CPU can read its banks. Queued for the main loop. */
static void poll_own_banks(void)
{
	struct mce_rings *mine = rings[this_cpu_index()];
	uint64_t now = time_ns();

	if (!stats.available || !mine || now < mine->next_poll)
		return;
	mine->next_poll = now + POLL_NS;
	__atomic_fetch_add(&stats.polled, collect(&mine->loop).found, __ATOMIC_RELAXED);
}

static struct cpu_poller mce_cpu_poller = { .name = "mce", .poll = poll_own_banks };

/* Each started CPU as the boot CPU: #MC on, and what its banks hold from
 * before (the firmware's errors) queued for the main loop. */
static const char *mce_start_cpu(void)
{
	struct mce_rings **mine = &rings[this_cpu_index()];

	if (!*mine)
		*mine = kzalloc(sizeof(**mine));
	if (!*mine)
		return "mce: out of memory for the error queues";
	uint32_t end = this_cpu_index() + 1, seen = __atomic_load_n(&rings_end, __ATOMIC_RELAXED);
	while (seen < end &&
	       !__atomic_compare_exchange_n(&rings_end, &seen, end, false, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
	write_cr4(read_cr4() | CR4_MCE);
	collect(&from_loop);
	return NULL;
}

static struct cpu_start_hook mce_start_hook = { .name = "mce", .start = mce_start_cpu };

void mce_init(void)
{
	const struct cpu_features *f = cpu_features();

	if (!f->mca || !f->mce) {
		str_copy(stats.last, "no MCA on this CPU", sizeof(stats.last));
		return;
	}
	stats.available = true;
	stats.banks = f->mca_banks;
	ser_p = f->mcg_cap & MCG_SER_P;
	stats.broadcast = f->vendor == CPU_VENDOR_INTEL;
	mce_rv_init(&rendezvous, 1, MCE_RV_TIMEOUT_NS, time_ns);
	stats.rendezvous = &rendezvous;
	trap_set_handler(VEC_MC, on_machine_check);
	write_cr4(read_cr4() | CR4_MCE);
	collect(&from_loop); /* whatever the firmware left: handled like the rest */
	mainloop_register(&mce_poller);
	smp_add_start_hook(&mce_start_hook);
	smp_add_cpu_poller(&mce_cpu_poller);
	vm_exit_set_machine_check_reader(mce_guest_exit);
}

static uint64_t guest_owner(uint64_t pa, struct vm **owner)
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_slot(i);
		if (!vm)
			continue;
		uint64_t gpa = gmem_gpa_of(&vm->mem, pa);
		if (gpa != GMEM_NO_GPA) {
			*owner = vm;
			return gpa;
		}
	}
	*owner = NULL;
	return 0;
}

enum mce_owner mce_handle_page(uint64_t pa, enum retire_reason why, char *what, size_t len)
{
	struct vm *vm;

	pa &= ~0xfffull;
	uint64_t gpa = guest_owner(pa, &vm);
	enum palloc_retire_result r = mm_retire_page(pa);
	if (r == PALLOC_NOT_RAM && !vm) {
		fmt_snprintf(what, len, "0x%lx is not RAM this hypervisor manages: nothing to retire",
			     (unsigned long)pa);
		return MCE_OWNER_NOT_RAM;
	}
	bool saved = retired_list_add(pa, why);
	if (r != PALLOC_ALREADY_RETIRED)
		stats.pages_retired++;
	if (vm) {
		bool held = vm_hold(vm); /* another CPU may run it */
		poison_guest_page(vm, gpa);
		if (held)
			vm_release(vm);
		stats.guest_pages_poisoned++;
		fmt_snprintf(what, len, "page 0x%lx of VM %s (GPA 0x%lx) poisoned and retired%s",
			     (unsigned long)pa, vm->name, (unsigned long)gpa,
			     saved ? "" : " (NVRAM save failed)");
		return MCE_OWNER_GUEST;
	}
	fmt_snprintf(what, len, "%s 0x%lx %s%s",
		     r == PALLOC_RETIRED_IN_USE ? "hypervisor page" :
		     r == PALLOC_ALREADY_RETIRED ? "page" : "free page", (unsigned long)pa,
		     r == PALLOC_ALREADY_RETIRED ? "was already retired" : "retired",
		     saved ? "" : " (NVRAM save failed)");
	return r == PALLOC_RETIRED_IN_USE ? MCE_OWNER_HV : MCE_OWNER_FREE;
}

static void act(const struct mce_error *e)
{
	if (!(e->status & MCI_UC)) {
		stats.corrected++;
		log_info("mce: corrected error in bank %u (status 0x%lx)", e->bank,
			 (unsigned long)e->status);
		return;
	}
	stats.uncorrected++;
	if (!e->addr) {
		log_err("mce: uncorrected error in bank %u without an address (status 0x%lx)",
			e->bank, (unsigned long)e->status);
		return;
	}
	char what[140];
	mce_handle_page(e->addr, RETIRE_UNCORRECTED, what, sizeof(what));
	stats.last_ns = time_ns() - e->seen_ns;
	fmt_snprintf(stats.last, sizeof(stats.last), "bank %u: %s", e->bank, what);
	log_warn("mce: uncorrected memory error, bank %u, address 0x%lx, misc 0x%lx: %s", e->bank,
		 (unsigned long)e->addr, (unsigned long)e->misc, what);
	/* MISC[5:0], the address's least significant valid bit (Intel's
	 * recoverable format): coarser than a page is not acted on in full. */
	if ((e->status & MCI_S) && (e->misc & 0x3f) > 12)
		log_warn("mce: the error may span 2^%u bytes; only the reported page was retired",
			 (unsigned)(e->misc & 0x3f));
}

/* Acts first, then counts the error handled: the CPU that queued it runs
 * no guest until then (percpu.mce_unhandled), so a guest whose page failed
 * does not run again before that page is poisoned. */
static void drain(struct mce_ring *r, struct percpu *owner)
{
	while (r->tail != r->head) {
		struct mce_error e = r->e[r->tail % QUEUE];
		act(&e);
		barrier();
		r->tail++;
		if (owner)
			__atomic_fetch_sub(&owner->mce_unhandled, 1, __ATOMIC_RELEASE);
	}
}

void mce_poll(void)
{
	uint64_t now = time_ns();
	bool waiting = false;

	uint32_t end = __atomic_load_n(&rings_end, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < end && !waiting; i++)
		waiting = rings[i] && (rings[i]->handler.head != rings[i]->handler.tail ||
				       rings[i]->loop.head != rings[i]->loop.tail);
	if (!stats.available || (now < next_poll && !waiting))
		return;
	next_poll = now + POLL_NS;
	/* The main loop's CPU's banks; each other CPU polls its own (poll_own_banks). */
	__atomic_fetch_add(&stats.polled, collect(&from_loop).found, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < end; i++) {
		if (!rings[i])
			continue;
		drain(&rings[i]->handler, percpu_get(i));
		drain(&rings[i]->loop, percpu_get(i));
	}

}
