/* Machine-check banks and the handling of uncorrected memory errors; see
 * mca.h. The #MC handler does the minimum (read, clear, queue); the main
 * loop does the rest with the allocator and VMs in a consistent state. */
#include "hv/mce/mca.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/log.h"
#include "hv/mce/poison.h"
#include "hv/mce/retired_list.h"
#include "hv/mm/mm.h"
#include "hv/panic.h"
#include "hv/time.h"
#include "hv/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/trap.h"

#define MSR_MC_STATUS(i) (0x401 + 4 * (i))
#define MSR_MC_ADDR(i) (0x402 + 4 * (i))
#define MCI_VAL (1ull << 63)
#define MCI_UC (1ull << 61)
#define MCI_PCC (1ull << 57)
#define MCI_ADDRV (1ull << 58)
#define MCG_RIPV 1ull
#define POLL_NS (10 * NS_PER_MS)
#define QUEUE 16

struct mce_error {
	uint64_t status, addr, seen_ns;
	unsigned bank;
};

static struct mce_stats stats;
static struct mce_error queue[QUEUE];
static volatile unsigned queued;
static uint64_t next_poll;

const struct mce_stats *mce_stats(void)
{
	return &stats;
}

/* Reads every bank with a valid error into the queue and clears it. */
static unsigned collect(void)
{
	unsigned found = 0;

	for (unsigned i = 0; i < stats.banks; i++) {
		uint64_t st = rdmsr(MSR_MC_STATUS(i));
		if (!(st & MCI_VAL))
			continue;
		uint64_t addr = st & MCI_ADDRV ? rdmsr(MSR_MC_ADDR(i)) : 0;
		if (queued < QUEUE)
			queue[queued++] = (struct mce_error){ st, addr, time_ns(), i };
		wrmsr(MSR_MC_STATUS(i), 0);
		found++;
	}
	return found;
}

/* An error with processor context corrupt cannot be contained: the page
 * is saved as retired so the next boot avoids it, then we stop. */
static void panic_if_context_corrupt(void)
{
	for (unsigned i = 0; i < queued; i++)
		if (queue[i].status & MCI_PCC) {
			if (queue[i].addr)
				retired_list_add(queue[i].addr, RETIRE_UNCORRECTED);
			panic("machine check: processor context corrupt (bank %u, address 0x%lx)",
			      queue[i].bank, (unsigned long)queue[i].addr);
		}
}

static void on_machine_check(struct trap_frame *f)
{
	uint64_t mcg = rdmsr(MSR_MCG_STATUS);

	stats.exceptions++;
	collect();
	if (trap_apply_fixup(f)) {
		/* Inside copy_mc_safe: the copy fails, the error is handled later. */
		stats.copies_interrupted++;
		wrmsr(MSR_MCG_STATUS, 0);
		return;
	}
	if (!(mcg & MCG_RIPV)) {
		/* The interrupted code cannot resume: save what we know, stop. */
		for (unsigned i = 0; i < queued; i++)
			if (queue[i].addr)
				retired_list_add(queue[i].addr, RETIRE_UNCORRECTED);
		panic("machine check with no restart IP at RIP 0x%lx", (unsigned long)f->rip);
	}
	panic_if_context_corrupt();
	wrmsr(MSR_MCG_STATUS, 0); /* MCIP off: a further #MC is an exception again */
}

bool mce_guest_exit(void)
{
	if (!stats.available)
		return true;
	bool irq = irq_save();
	uint64_t mcg = rdmsr(MSR_MCG_STATUS);
	stats.guest_exits++;
	collect();
	panic_if_context_corrupt();
	wrmsr(MSR_MCG_STATUS, 0);
	irq_restore(irq);
	/* Without RIPV it is the guest's context that cannot resume, not ours. */
	return mcg & MCG_RIPV;
}

void mce_init(void)
{
	const struct cpu_features *f = cpu_features();

	if (!f->mca || !f->mce) {
		str_copy(stats.last, "no MCA on this CPU", sizeof(stats.last));
		return;
	}
	stats.available = true;
	stats.banks = f->mca_banks;
	trap_set_handler(VEC_MC, on_machine_check);
	write_cr4(read_cr4() | CR4_MCE);
	collect(); /* whatever the firmware left: handled like the rest */
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
	enum palloc_retire_result r = palloc_retire(mm_palloc(), pa);
	if (r == PALLOC_NOT_RAM && !vm) {
		fmt_snprintf(what, len, "0x%lx is not RAM this hypervisor manages: nothing to retire",
			     (unsigned long)pa);
		return MCE_OWNER_NOT_RAM;
	}
	bool saved = retired_list_add(pa, why);
	if (r != PALLOC_ALREADY_RETIRED)
		stats.pages_retired++;
	if (vm) {
		poison_guest_page(vm, gpa);
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
	log_warn("mce: uncorrected memory error, bank %u, address 0x%lx: %s", e->bank,
		 (unsigned long)e->addr, what);
}

void mce_poll(void)
{
	uint64_t now = time_ns();

	if (!stats.available || (now < next_poll && !queued))
		return;
	next_poll = now + POLL_NS;
	bool irq = irq_save();
	unsigned before = queued;
	collect();
	stats.polled += queued - before;
	struct mce_error batch[QUEUE];
	unsigned n = queued;
	memcpy(batch, queue, n * sizeof(batch[0]));
	queued = 0;
	irq_restore(irq);
	for (unsigned i = 0; i < n; i++)
		act(&batch[i]);
}
