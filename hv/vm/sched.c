#include "hv/vm/sched.h"

#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/smp/smp.h"
#include "hv/vm/sched_policy.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_place.h"
#include "hv/vm/vm_run.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

/* Each CPU's run queue: the VMs with vCPUs placed on it, round robin. */
static struct sched scheds[CPU_MAX];

static struct poller guests = { .name = "guests", .poll = sched_run, .stage = POLL_GUESTS };

/* The policy asks about halted vCPUs one by one: ticking a VM's APIC timer
 * is what can wake it. */
struct wake_ctx {
	struct vm *const *vms;
	uint64_t now;
};

static bool wake_if_due(void *ctx, unsigned slot)
{
	const struct wake_ctx *w = ctx;

	return vm_wake_if_due(w->vms[slot], w->now);
}

/* Chooses among vms (by slot, NULL: not this CPU's) and runs the choice. */
static bool run_one(struct sched *s, struct vm *const *vms)
{
	struct sched_vm seen[VM_MAX];

	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *vm = vms[i];
		seen[i] = vm ? (struct sched_vm){ vm->state == VM_RUNNING, !vm_runnable_here(vm),
						  vm->throttle_pct } :
			       (struct sched_vm){ false, false, 0 };
	}
	struct wake_ctx w = { vms, rdtsc() };
	struct sched_clock clock = { w.now, time_ns() / NS_PER_MS,
				     time_ns_to_tsc(SCHED_SLICE_MS * NS_PER_MS) };
	struct sched_choice c = sched_choose(s, seen, VM_MAX, &clock, wake_if_due, &w);
	if (c.slot == SCHED_IDLE)
		return false;
	vm_run(vms[c.slot], c.until);
	return true;
}

/* A guest asked for a reset while its vCPUs run on several CPUs: none of
 * them may reset the others, so the main loop does it with all of them held. */
static void reset_spread_vms(void)
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_slot(i);
		if (!vm || !vm->reset_pending || vm->state != VM_RUNNING || !vm_spread(vm))
			continue;
		bool held = vm_hold(vm);
		vm_reset(vm);
		if (held)
			vm_release(vm);
	}
}

/* Each CPU runs what it claimed: the vCPUs placed on it that the main loop does
 * not hold. On the main loop's CPU nothing holds them meanwhile, but
 * the claims also mark what it runs. Claiming also puts down, on this
 * CPU, what the main loop holds: so when nothing may run here, it claims anyway. */
static bool run_claimed(bool may_run)
{
	uint32_t self = this_cpu_index();
	struct vm *mine[VM_MAX];

	if (!vm_claim_placed(self, mine))
		return false;
	bool ran = may_run && run_one(&scheds[self], mine);
	vm_unclaim_placed(self, mine);
	return ran;
}

/* The main loop's CPU, from the main loop. */
bool sched_run(void)
{
	reset_spread_vms();
	return run_claimed(true);
}

/* A started CPU, between idles: its own vCPUs, claimed against the main loop. */
static bool run_started_cpu(void)
{
	/* A machine check this CPU queued (a guest's page, perhaps) waits for
	 * the main loop, which retires and poisons (holding the VM) before any guest
	 * here runs again. */
	return run_claimed(!__atomic_load_n(&this_cpu()->mce_unhandled, __ATOMIC_ACQUIRE));
}

void sched_init(void)
{
	mainloop_register(&guests);
	smp_set_idle_work(run_started_cpu);
}
