#include "hv/vm/sched.h"

#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/vm/sched_policy.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_run.h"
#include "hv/x86/cpu.h"

static struct sched sched;

static struct poller guests = { .name = "guests", .poll = sched_run, .stage = POLL_GUESTS };

void sched_init(void)
{
	mainloop_register(&guests);
}

/* The policy asks about halted vCPUs one by one: ticking a VM's APIC timer
 * is what can wake it. */
static bool wake_if_due(void *ctx, unsigned slot)
{
	return vm_wake_if_due(vm_slot(slot), *(const uint64_t *)ctx);
}

bool sched_run(void)
{
	struct sched_vm vms[VM_MAX];

	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *vm = vm_slot(i);
		vms[i] = vm ? (struct sched_vm){ vm->state == VM_RUNNING, vm->vcpu.halted,
						 vm->throttle_pct } :
			      (struct sched_vm){ false, false, 0 };
	}
	uint64_t now = rdtsc();
	struct sched_clock clock = { now, time_ns() / NS_PER_MS,
				     time_ns_to_tsc(SCHED_SLICE_MS * NS_PER_MS) };
	struct sched_choice c = sched_choose(&sched, vms, VM_MAX, &clock, wake_if_due, &now);
	if (c.slot == SCHED_IDLE)
		return false;
	vm_run(vm_slot((unsigned)c.slot), c.until);
	return true;
}
