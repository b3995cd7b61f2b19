#include "hv/vm/vm_run.h"

#include "hv/core/console.h"
#include "hv/core/time.h"
#include "hv/vm/platform.h"
#include "hv/vm/vcpu_signal.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_exit.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/fpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/side_channel.h"

/* A vCPU's turn ends after this long when others wait. Short enough for
 * a guest spinning on a lock held by a vCPU that waits for its turn; an
 * IPI or HLT ends a turn sooner. */
#define VCPU_SLICE_US 1000

/* An interrupt for the vCPU: from its local APIC, else (the BSP only) from
 * the 8259 through LINT0 (virtual wire). */
enum source { SOURCE_NONE, SOURCE_LAPIC, SOURCE_PIC };

static enum source interrupt_source(struct vcpu *v, int *vector)
{
	*vector = vlapic_pending(&v->lapic);
	if (*vector >= 0)
		return SOURCE_LAPIC;
	if (v->index == 0 && vlapic_accepts_extint(&v->lapic) && vpic_output(&v->vm->plat.pic))
		return SOURCE_PIC;
	return SOURCE_NONE;
}

/* Exceptions queued by emulation go first, then an NMI, then the highest
 * interrupt if the guest can take it now, else an interrupt-window exit
 * is requested. The 8259 is acknowledged only when its vector goes in. */
static void deliver_events(struct vcpu *v)
{
	int vector;

	if (v->pending_exception) {
		vcpu_ops->inject(v, &v->exception);
		v->pending_exception = false;
		return;
	}
	if (vlapic_take_nmi(&v->lapic)) {
		struct vcpu_event nmi = { EVENT_NMI, 2, false, 0 };
		vcpu_ops->inject(v, &nmi);
		return;
	}
	enum source src = interrupt_source(v, &vector);
	if (src == SOURCE_NONE)
		return;
	if (!vcpu_ops->can_take_interrupt(v)) {
		vcpu_ops->request_interrupt_window(v, true);
		return;
	}
	if (src == SOURCE_PIC)
		vector = vpic_acknowledge(&v->vm->plat.pic);
	else
		vlapic_accept(&v->lapic, vector);
	struct vcpu_event ev = { EVENT_INTERRUPT, (uint8_t)vector, false, 0 };
	vcpu_ops->inject(v, &ev);
}

static bool wake_vcpu(struct vcpu *v, uint64_t now)
{
	int vector;

	vcpu_take_signals(v);
	if (!v->halted)
		return !v->wait_for_sipi;
	vlapic_tick(&v->lapic, now);
	/* HLT with interrupts off sleeps for good (only an NMI would wake it). */
	if (v->lapic.nmi_pending ||
	    ((v->regs.rflags & RFLAGS_IF) && interrupt_source(v, &vector) != SOURCE_NONE))
		v->halted = false;
	return !v->halted;
}

/* Whether this CPU claimed v for its turn (vm_claim_placed): the vCPUs
 * it may run. */
static bool mine(const struct vcpu *v)
{
	return hold_gate_claimed_by(&v->gate, (int32_t)this_cpu_index());
}

static void load_here(struct vm *vm);

bool vm_wake_if_due(struct vm *vm, uint64_t now)
{
	bool any = false;

	/* Taking INIT or a start-up sets a vCPU's state, which loads it on
	 * this CPU: marked as loaded here, it is put down when held. */
	load_here(vm);
	bool irq = spin_lock_irqsave(&vm->lock);

	platform_advance(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (mine(&vm->vcpus[i]))
			any |= wake_vcpu(&vm->vcpus[i], now);
	spin_unlock_irqrestore(&vm->lock, irq);
	return any;
}

bool vm_runnable(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vcpu_runnable(&vm->vcpus[i]))
			return true;
	return false;
}

bool vm_runnable_here(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (mine(&vm->vcpus[i]) && vcpu_runnable(&vm->vcpus[i]))
			return true;
	return false;
}

/* RDTSCP and RDPID read IA32_TSC_AUX from the CPU, and no VMCB or VMCS
 * field switches it: the vCPU's value goes into the CPU before it runs
 * (the hypervisor itself never reads it). */
static void load_tsc_aux(const struct vcpu *v)
{
	static uint64_t loaded[CPU_MAX]; /* + 1: 0 is "unknown" */
	uint64_t *mine = &loaded[this_cpu_index()];

	if (!cpu_features()->rdtscp || *mine == v->msr_tsc_aux + 1)
		return;
	*mine = wrmsr_safe(MSR_TSC_AUX, v->msr_tsc_aux) ? v->msr_tsc_aux + 1 : 0;
}

/* This CPU's vCPUs come here: whoever had them loaded put them down. */
static void load_here(struct vm *vm)
{
	int32_t self = (int32_t)this_cpu_index();
	unsigned sharing = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		sharing += __atomic_load_n(&vm->vcpus[i].cpu, __ATOMIC_ACQUIRE) == (uint32_t)self;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!mine(v) || hold_gate_loaded_on(&v->gate, self))
			continue;
		v->pause_ends_turn = sharing > 1; /* alone here, a spinner waits for no turn */
		vcpu_ops->load(v);
		hold_gate_set_loaded(&v->gate, self);
	}
}

/* How a vCPU's turn ended: another vCPU of the VM may go on, or the VM's
 * turn is over (the host wants the CPU, or the VM changed state). */
enum turn_end { TURN_NEXT_VCPU, TURN_VM_DONE };

static bool goes_on(const struct vm *vm)
{
	return vm->state == VM_RUNNING && !vm->reset_pending;
}

/* An exit is handled under the VM's lock, but a machine check is not: the
 * broadcast rendezvous waits for every CPU, and one of them may be waiting
 * for this lock. */
static enum exit_action handle_exit(struct vcpu *v, const struct vm_exit *e)
{
	if (e->kind == EXIT_MACHINE_CHECK)
		return vm_handle_exit(v, e);
	bool irq = spin_lock_irqsave(&v->vm->lock);
	enum exit_action a = vm_handle_exit(v, e);
	spin_unlock_irqrestore(&v->vm->lock, irq);
	return a;
}

static void prepare_entry(struct vcpu *v)
{
	bool irq = spin_lock_irqsave(&v->vm->lock);

	platform_advance(v->vm);
	vlapic_tick(&v->lapic, rdtsc());
	deliver_events(v);
	spin_unlock_irqrestore(&v->vm->lock, irq);
}

static enum turn_end run_vcpu(struct vcpu *v, uint64_t until)
{
	struct vm *vm = v->vm;

	fpu_switch_to(v->fpu);
	v->yield = false;
	while (goes_on(vm) && vcpu_runnable(v)) {
		struct vm_exit e;

		prepare_entry(v);
		load_tsc_aux(v);
		side_channel_before_entry();
		uint64_t t0 = rdtsc();
		vcpu_ops->run(v, &e);
		v->run_tsc += rdtsc() - t0;
		v->exits++;
		v->exits_by_code[vcpu_ops->exit_slot(e.code) % VCPU_EXIT_STATS]++;
		v->last_exit = e;
		enum exit_action a = handle_exit(v, &e);
		console_kick();
		if (vm->reset_pending) {
			/* The guest asked: it restarts from its image. With vCPUs
			 * on other CPUs, the main loop does it under a hold. */
			if (!vm_spread(vm))
				vm_reset(vm);
			return TURN_VM_DONE;
		}
		if (hold_gate_held(&v->gate))
			return TURN_VM_DONE; /* the main loop wants it: the caller puts it down */
		if (a == EXIT_STOP || (a == EXIT_YIELD && !v->halted))
			return TURN_VM_DONE;
		/* INIT and start-up are taken between turns (next_vcpu). */
		if (rdtsc() >= until || v->yield || v->lapic.init_pending || v->lapic.sipi_pending)
			break;
	}
	return goes_on(vm) ? TURN_NEXT_VCPU : TURN_VM_DONE;
}

/* The next of this CPU's vCPUs in round robin that can run, after INITs
 * and start-ups have been applied and halted ones woken by their
 * interrupts; NULL when all are halted or waiting. */
static struct vcpu *next_vcpu(struct vm *vm)
{
	uint64_t now = rdtsc();
	struct vcpu *found = NULL;
	bool irq = spin_lock_irqsave(&vm->lock);

	for (unsigned k = 0; k < vm->nvcpus && !found; k++) {
		struct vcpu *v = &vm->vcpus[(vm->next_vcpu + k) % vm->nvcpus];
		if (mine(v) && wake_vcpu(v, now)) {
			vm->next_vcpu = (v->index + 1) % vm->nvcpus;
			found = v;
		}
	}
	spin_unlock_irqrestore(&vm->lock, irq);
	return found;
}

void vm_run(struct vm *vm, uint64_t until)
{
	uint64_t slice = time_ns_to_tsc(VCPU_SLICE_US * 1000ull);
	unsigned here = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		here += mine(&vm->vcpus[i]);
	load_here(vm);
	side_channel_switch_to(vm->uid);
	/* Asked for while its vCPUs were spread, and they are not now. */
	if (vm->reset_pending && vm->state == VM_RUNNING && !vm_spread(vm))
		vm_reset(vm);
	while (goes_on(vm)) {
		struct vcpu *v = next_vcpu(vm);
		if (!v)
			break;
		uint64_t now = rdtsc();
		uint64_t turn_end = here > 1 && now + slice < until ? now + slice : until;
		if (run_vcpu(v, turn_end) == TURN_VM_DONE || rdtsc() >= until)
			break;
	}
}
