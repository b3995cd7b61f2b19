#include "hv/vm/vm_run.h"

#include "hv/core/console.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_exit.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/fpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/side_channel.h"

/* An interrupt for the vCPU: from the local APIC, else from the 8259
 * through LINT0 (virtual wire). */
enum source { SOURCE_NONE, SOURCE_LAPIC, SOURCE_PIC };

static enum source interrupt_source(struct vm *vm, int *vector)
{
	*vector = vlapic_pending(&vm->lapic);
	if (*vector >= 0)
		return SOURCE_LAPIC;
	if (vlapic_accepts_extint(&vm->lapic) && vpic_output(&vm->plat.pic))
		return SOURCE_PIC;
	return SOURCE_NONE;
}

/* Exceptions queued by emulation go first, then an NMI, then the highest
 * interrupt if the guest can take it now, else an interrupt-window exit
 * is requested. The 8259 is acknowledged only when its vector goes in. */
static void deliver_events(struct vm *vm)
{
	struct vcpu *v = &vm->vcpu;
	int vector;

	if (v->pending_exception) {
		vcpu_ops->inject(v, &v->exception);
		v->pending_exception = false;
		return;
	}
	if (vlapic_take_nmi(&vm->lapic)) {
		struct vcpu_event nmi = { EVENT_NMI, 2, false, 0 };
		vcpu_ops->inject(v, &nmi);
		return;
	}
	enum source src = interrupt_source(vm, &vector);
	if (src == SOURCE_NONE)
		return;
	if (!vcpu_ops->can_take_interrupt(v)) {
		vcpu_ops->request_interrupt_window(v, true);
		return;
	}
	if (src == SOURCE_PIC)
		vector = vpic_acknowledge(&vm->plat.pic);
	else
		vlapic_accept(&vm->lapic, vector);
	struct vcpu_event ev = { EVENT_INTERRUPT, (uint8_t)vector, false, 0 };
	vcpu_ops->inject(v, &ev);
}

bool vm_wake_if_due(struct vm *vm, uint64_t now)
{
	struct vcpu *v = &vm->vcpu;
	int vector;

	if (!v->halted)
		return true;
	platform_advance(vm);
	vlapic_tick(&vm->lapic, now);
	/* HLT with interrupts off sleeps for good (only an NMI would wake it). */
	if ((v->regs.rflags & RFLAGS_IF) && interrupt_source(vm, &vector) != SOURCE_NONE)
		v->halted = false;
	return !v->halted;
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

/* The vCPU moves to this CPU: whoever had it loaded put it down first. */
static void load_here(struct vm *vm)
{
	int32_t self = (int32_t)this_cpu_index();

	if (vm->loaded_on == self)
		return;
	vcpu_ops->load(&vm->vcpu);
	__atomic_store_n(&vm->loaded_on, self, __ATOMIC_SEQ_CST);
}

void vm_run(struct vm *vm, uint64_t until)
{
	struct vcpu *v = &vm->vcpu;

	load_here(vm);
	fpu_switch_to(v->fpu);
	side_channel_switch_to(vm->uid);
	while (vm->state == VM_RUNNING && !v->halted) {
		struct vm_exit e;

		platform_advance(vm);
		vlapic_tick(&vm->lapic, rdtsc());
		deliver_events(vm);
		load_tsc_aux(v);
		side_channel_before_entry();
		uint64_t t0 = rdtsc();
		vcpu_ops->run(v, &e);
		v->run_tsc += rdtsc() - t0;
		v->exits++;
		v->exits_by_code[vcpu_ops->exit_slot(e.code) % VCPU_EXIT_STATS]++;
		v->last_exit = e;
		enum exit_action a = vm_handle_exit(v, &e);
		console_kick();
		if (vm->reset_pending) {
			vm_reset(vm); /* the guest asked: it restarts from its image */
			break;
		}
		if (a != EXIT_CONTINUE || rdtsc() >= until)
			break;
		if (__atomic_load_n(&vm->hold, __ATOMIC_SEQ_CST))
			break; /* CPU 0 wants it: the caller puts it down */
	}
}
