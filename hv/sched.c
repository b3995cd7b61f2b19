#include "hv/sched.h"

#include "hv/time.h"
#include "hv/vm.h"
#include "hv/vm_run.h"
#include "hv/x86/cpu.h"

static unsigned current;
static uint64_t slice_end;

static struct vm *pick_after(unsigned start, uint64_t now)
{
	for (unsigned n = 1; n <= VM_MAX; n++) {
		unsigned i = (start + n) % VM_MAX;
		struct vm *vm = vm_slot(i);
		if (vm && vm->state == VM_RUNNING && vm_wake_if_due(vm, now)) {
			current = i;
			return vm;
		}
	}
	return NULL;
}

bool sched_run(void)
{
	uint64_t now = rdtsc();
	struct vm *vm = vm_slot(current);

	if (!vm || vm->state != VM_RUNNING || !vm_wake_if_due(vm, now) || now >= slice_end) {
		vm = pick_after(current, now);
		slice_end = now + time_ns_to_tsc(SCHED_SLICE_MS * NS_PER_MS);
	}
	if (!vm)
		return false;
	vm_run(vm, slice_end);
	return true;
}
