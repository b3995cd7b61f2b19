/* A VM's life cycle while a migration owns it. Migration (migrate/) moves
 * state through these calls only, so the rules of vm.h's state diagram
 * stay in one module:
 *
 *   source:      begin -> [throttle] -> pause -> handed_over (destroyed)
 *                      \-> abort (running again if it was) or outcome_unknown
 *   destination: vm_create_incoming -> arrived (created/paused/running)
 *                                   \-> discard (destroyed)
 *
 * The source VM may run on another CPU than the migration (the main loop): what
 * must see it stopped (pause, destroy) holds it first (vm_place.h). */
#include "hv/core/time.h"
#include "hv/core/log.h"
#include "hv/lib/format.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/percpu.h"

int vm_migration_begin(struct vm *vm, char *err, size_t errlen)
{
	if (vm->migrating) {
		fmt_snprintf(err, errlen, "VM '%s' is being migrated", vm->name);
		return -1;
	}
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED && vm->state != VM_CREATED) {
		fmt_snprintf(err, errlen, "VM '%s' is %s; only a live VM migrates", vm->name,
			     vm_state_name(vm->state));
		return -1;
	}
	vm->migrating = true;
	vm->paused_for_migration = false;
	return 0;
}

void vm_migration_throttle(struct vm *vm, unsigned pct)
{
	vm->throttle_pct = pct > VM_THROTTLE_MAX ? VM_THROTTLE_MAX : pct;
}

void vm_migration_pause(struct vm *vm)
{
	if (vm->state == VM_RUNNING) {
		vm->state = VM_PAUSED;
		vm->paused_for_migration = true;
	}
	vm->throttle_pct = 0;
	/* Stopped on its CPU before its last pages are read; once let go, that
	 * CPU sees 'paused' and leaves it be. */
	if (vm_hold(vm))
		vm_release(vm);
}

void vm_migration_abort(struct vm *vm)
{
	vm->migrating = false;
	vm->throttle_pct = 0;
	/* Only what migration paused runs again; an operator's pause stays. */
	if (vm->paused_for_migration && vm->state == VM_PAUSED)
		vm->state = VM_RUNNING;
	vm->paused_for_migration = false;
}

void vm_migration_outcome_unknown(struct vm *vm, const char *why)
{
	vm->migrating = false;
	vm->throttle_pct = 0;
	vm->paused_for_migration = false;
	fmt_snprintf(vm->reason, sizeof(vm->reason),
		     "migration to %s: outcome unknown (%s); it may run there: check "
		     "before resuming or destroying it here", "the destination", why);
}

void vm_migration_handed_over(struct vm *vm, struct vm_kept_memory *keep)
{
	vm->migrating = false;
	vm->out.line_len = 0; /* the half-written line went along with the VM */
	vm_hold(vm); /* off its CPU for good: nothing releases a destroyed VM */
	vm_destroy_keeping_memory(vm, keep);
}

/* Before the VM may run, so no other CPU runs a vCPU while the next is
 * placed. A vCPU whose CPU this instance lacks (or a VM with disks, which
 * the main loop serves) stays on the main loop's CPU: one line says why. */
static void place_as_on_source(struct vm *vm, const uint32_t *cpu_of_vcpu)
{
	char why[160];
	unsigned stayed = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm_place_vcpu(vm, i, cpu_of_vcpu[i], why, sizeof(why)) && !stayed++)
			log_warn("vm %s: vcpu %u stays on cpu %u, not on cpu %u as on the source: %s",
				 vm->name, i, percpu_main_index(), cpu_of_vcpu[i], why);
	}
	if (stayed > 1)
		log_warn("vm %s: %u vCPUs stay on cpu %u instead of where the source ran them",
			 vm->name, stayed, percpu_main_index());
}

void vm_migration_arrived(struct vm *vm, enum vm_state run_state, const uint32_t *cpu_of_vcpu)
{
	vm->migrating = false;
	vm->incoming = false;
	if (cpu_of_vcpu)
		place_as_on_source(vm, cpu_of_vcpu);
	vm->state = run_state == VM_PAUSED || run_state == VM_CREATED ? run_state : VM_RUNNING;
	vm->started_ns = time_ns();
}

void vm_migration_discard(struct vm *vm)
{
	vm->migrating = false;
	vm->out.line_len = 0; /* a line restored from the stream is the source's to print */
	vm_destroy(vm);
}
