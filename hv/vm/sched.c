#include "hv/vm/sched.h"

#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_run.h"
#include "hv/x86/cpu.h"

static unsigned current;

/* A throttled VM (migration's auto-converge) sits out the first
 * throttle_pct ms of every 100 ms. */
static bool throttled(const struct vm *vm)
{
	return vm->throttle_pct && time_ns() / NS_PER_MS % 100 < vm->throttle_pct;
}
static uint64_t slice_end;

/* A vCPU that was halted and now has an interrupt to take runs at once:
 * it usually handles it and halts again, so guests waiting on timers keep
 * their pace while others spin through whole slices. */
static struct vm *woken_vm(uint64_t now)
{
	for (unsigned n = 1; n <= VM_MAX; n++) {
		struct vm *vm = vm_slot((current + n) % VM_MAX);
		if (vm && vm->state == VM_RUNNING && vm->vcpu.halted && !throttled(vm) &&
		    vm_wake_if_due(vm, now))
			return vm;
	}
	return NULL;
}

static struct vm *next_runnable(uint64_t now)
{
	for (unsigned n = 1; n <= VM_MAX; n++) {
		unsigned i = (current + n) % VM_MAX;
		struct vm *vm = vm_slot(i);
		if (vm && vm->state == VM_RUNNING && !throttled(vm) && vm_wake_if_due(vm, now)) {
			current = i;
			return vm;
		}
	}
	return NULL;
}

static struct poller guests = { .name = "guests", .poll = sched_run, .stage = POLL_GUESTS };

void sched_init(void)
{
	mainloop_register(&guests);
}

bool sched_run(void)
{
	uint64_t now = rdtsc();
	struct vm *vm = woken_vm(now);

	if (vm) {
		/* Runs until it halts or the next host tick; the slice in progress
		 * carries on afterwards. */
		vm_run(vm, now + time_ns_to_tsc(SCHED_SLICE_MS * NS_PER_MS));
		return true;
	}
	vm = vm_slot(current);
	if (!vm || vm->state != VM_RUNNING || throttled(vm) || !vm_wake_if_due(vm, now) ||
	    now >= slice_end) {
		vm = next_runnable(now);
		slice_end = now + time_ns_to_tsc(SCHED_SLICE_MS * NS_PER_MS);
	}
	if (!vm)
		return false;
	vm_run(vm, slice_end);
	return true;
}
