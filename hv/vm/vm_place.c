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

static bool placed_only_on(const struct vm *vm, uint32_t cpu)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (__atomic_load_n(&vm->vcpus[i].cpu, __ATOMIC_ACQUIRE) != cpu)
			return false;
	return true;
}

bool vm_spread(const struct vm *vm)
{
	return !placed_only_on(vm, __atomic_load_n(&vm->vcpus[0].cpu, __ATOMIC_ACQUIRE));
}

/* Out of the guest or its idle HLT, once per CPU in one pass over a VM's
 * vCPUs (*kicked: the CPUs below 64 kicked already; others each time). */
static void kick_once(uint32_t cpu, uint64_t *kicked)
{
	if (cpu < 64 && (*kicked & (1ull << cpu)))
		return;
	smp_send_ipi(cpu, VEC_IPI_WAKE);
	if (cpu < 64)
		*kicked |= 1ull << cpu;
}

/* Whether every vCPU another CPU runs has been let go; kicks those CPUs
 * that still have one when kick is due. */
static bool all_let_go(struct vm *vm, uint32_t self, bool kick)
{
	uint64_t kicked = 0;
	bool done = true;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint32_t owner = __atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE);
		if (owner == self || hold_gate_let_go(&v->gate, (int32_t)owner))
			continue;
		done = false;
		if (kick)
			kick_once(owner, &kicked);
	}
	return done;
}

bool vm_hold_measured(struct vm *vm, uint64_t *waited_ns)
{
	uint32_t self = this_cpu_index();

	*waited_ns = 0;
	if (placed_only_on(vm, self))
		return false;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		hold_gate_hold(&vm->vcpus[i].gate);
	uint64_t start = time_ns(), next_kick = 0, warn_at = start + NS_PER_SEC;
	bool kicked = false;
	for (;;) {
		uint64_t now = time_ns();
		bool kick = now >= next_kick;
		if (all_let_go(vm, self, kick))
			break;
		if (kick) {
			next_kick = now + KICK_EVERY_NS;
			kicked = true;
		}
		if (warn_at && now >= warn_at) {
			log_warn("vm %s: a CPU has not let go of it for a second", vm->name);
			warn_at = 0;
		}
		cpu_relax();
	}
	if (kicked)
		*waited_ns = time_ns() - start;
	return true;
}

void vcpu_put_down(struct vcpu *v)
{
	vcpu_ops->put(v);
	if (this_cpu()->fpu_owner == v->fpu)
		fpu_save_live();
	hold_gate_set_loaded(&v->gate, HOLD_GATE_NO_CPU);
}

void vm_release(struct vm *vm)
{
	/* State reads under the hold may have loaded any vCPU here. */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vcpu_put_down(&vm->vcpus[i]);
		hold_gate_release(&vm->vcpus[i].gate);
	}
	/* What changed under the hold (a key typed, an interrupt raised) is
	 * for vCPUs whose CPUs may idle until their next tick: wake them. */
	uint32_t self = this_cpu_index();
	uint64_t kicked = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		uint32_t owner = __atomic_load_n(&vm->vcpus[i].cpu, __ATOMIC_ACQUIRE);
		if (owner != self)
			kick_once(owner, &kicked);
	}
}

bool vm_hold_for_command(struct vm *vm)
{
	for (unsigned i = 0; i < ncommand_holds; i++)
		if (command_holds[i] == vm->id)
			return true;
	if (placed_only_on(vm, this_cpu_index()))
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

int vm_place_vcpu(struct vm *vm, unsigned index, uint32_t cpu, char *err, size_t errlen)
{
	const struct percpu *c = percpu_get(cpu);
	struct vcpu *v = &vm->vcpus[index];

	if (!c || c->state != CPU_ONLINE) {
		fmt_snprintf(err, errlen, "cpu %u is not online (see 'cpu')", cpu);
		return -1;
	}
	if (cpu != percpu_main_index() && vm->ndisks) {
		fmt_snprintf(err, errlen,
			     "VM '%s' has disks, which only the main loop's cpu (%u) serves for now",
			     vm->name, percpu_main_index());
		return -1;
	}
	if (cpu != percpu_main_index() && vm->incoming) {
		fmt_snprintf(err, errlen, "VM '%s' is arriving by migration; place it once it has",
			     vm->name);
		return -1;
	}
	if (v->cpu == cpu)
		return 0;
	/* This CPU ran it, or loaded it to read or set its state (creation
	 * does, unmarked): nothing runs it now (commands run between). */
	if (v->cpu == this_cpu_index())
		vcpu_put_down(v);
	__atomic_store_n(&v->cpu, cpu, __ATOMIC_RELEASE);
	log_info("vm %s: vcpu %u placed on cpu %u", vm->name, index, cpu);
	return 0;
}

int vm_place(struct vm *vm, uint32_t cpu, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm_place_vcpu(vm, i, cpu, err, errlen))
			return -1;
	return 0;
}
