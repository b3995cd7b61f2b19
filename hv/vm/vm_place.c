#include "hv/vm/vm_place.h"

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/smp/smp.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/fpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#define KICK_EVERY_NS 200000ull /* until the CPU answers */
#define COMMAND_HOLDS_MAX 8

static uint32_t command_holds[COMMAND_HOLDS_MAX]; /* VM ids */
static unsigned ncommand_holds;

bool vm_hold(struct vm *vm)
{
	uint64_t waited;

	return vm_hold_measured(vm, &waited);
}

bool vm_hold_measured(struct vm *vm, uint64_t *waited_ns)
{
	uint32_t owner = __atomic_load_n(&vm->cpu, __ATOMIC_ACQUIRE);

	*waited_ns = 0;
	if (owner == this_cpu_index())
		return false;
	hold_gate_hold(&vm->gate);
	uint64_t start = time_ns(), next_kick = 0, warn_at = start + NS_PER_SEC;
	bool kicked = false;
	while (!hold_gate_let_go(&vm->gate, (int32_t)owner)) {
		uint64_t now = time_ns();
		if (now >= next_kick) {
			smp_send_ipi(owner, VEC_IPI_WAKE); /* out of the guest */
			next_kick = now + KICK_EVERY_NS;
			kicked = true;
		}
		if (warn_at && now >= warn_at) {
			log_warn("vm %s: cpu %u has not let go of it for a second", vm->name, owner);
			warn_at = 0;
		}
		cpu_relax();
	}
	if (kicked)
		*waited_ns = time_ns() - start;
	return true;
}

void vm_put_down(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vcpu_ops->put(&vm->vcpus[i]);
		if (this_cpu()->fpu_owner == vm->vcpus[i].fpu)
			fpu_save_live();
	}
	hold_gate_set_loaded(&vm->gate, HOLD_GATE_NO_CPU);
}

void vm_release(struct vm *vm)
{
	/* State reads under the hold may have loaded the vCPU here. */
	vm_put_down(vm);
	hold_gate_release(&vm->gate);
}

bool vm_hold_for_command(struct vm *vm)
{
	for (unsigned i = 0; i < ncommand_holds; i++)
		if (command_holds[i] == vm->id)
			return true;
	if (vm->cpu == this_cpu_index())
		return true;
	if (ncommand_holds == COMMAND_HOLDS_MAX)
		return false;
	vm_hold(vm);
	command_holds[ncommand_holds++] = vm->id;
	return true;
}

void vm_release_command_holds(void)
{
	for (unsigned i = 0; i < ncommand_holds; i++) {
		struct vm *vm = vm_find_id(command_holds[i]);
		if (vm)
			vm_release(vm);
	}
	ncommand_holds = 0;
}

int vm_place(struct vm *vm, uint32_t cpu, char *err, size_t errlen)
{
	const struct percpu *c = percpu_get(cpu);

	if (!c || c->state != CPU_ONLINE) {
		fmt_snprintf(err, errlen, "cpu %u is not online (see 'cpu')", cpu);
		return -1;
	}
	if (cpu && vm->ndisks) {
		fmt_snprintf(err, errlen, "VM '%s' has disks, which only cpu 0 serves for now",
			     vm->name);
		return -1;
	}
	if (cpu && vm->incoming) {
		fmt_snprintf(err, errlen, "VM '%s' is arriving by migration; place it once it has",
			     vm->name);
		return -1;
	}
	if (vm->cpu == cpu)
		return 0;
	if (vm->cpu == 0)
		vm_put_down(vm); /* cpu 0 ran it: nothing does now (commands run between) */
	__atomic_store_n(&vm->cpu, cpu, __ATOMIC_RELEASE);
	log_info("vm %s: placed on cpu %u", vm->name, cpu);
	return 0;
}
