/* Capture and restore of a VM's state for migration; see vm_state.h. */
#include "migrate/vm_state.h"

#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/muldiv.h"
#include "hv/lib/string.h"
#include "hv/vm/kvmclock.h"
#include "hv/vm/platform.h"
#include "hv/vm/vcpu_signal.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/fpu.h"

static void capture_lapic(const struct vlapic *l, struct mig_lapic *m, uint64_t now)
{
	*m = (struct mig_lapic){
		.id = l->id, .tpr = l->tpr, .svr = l->svr, .ldr = l->ldr, .dfr = l->dfr,
		.esr = l->esr, .icr_lo = l->icr_lo, .icr_hi = l->icr_hi,
		.lvt_timer = l->lvt_timer, .lvt_thermal = l->lvt_thermal,
		.lvt_perf = l->lvt_perf, .lvt_lint0 = l->lvt_lint0, .lvt_lint1 = l->lvt_lint1,
		.lvt_error = l->lvt_error, .lvt_cmci = l->lvt_cmci,
		.timer_init = l->timer_init, .timer_div = l->timer_div,
	};
	memcpy(m->irr, l->irr, sizeof(m->irr));
	memcpy(m->isr, l->isr, sizeof(m->isr));
	if (l->timer_deadline) {
		uint64_t left = l->timer_deadline > now ? l->timer_deadline - now : 0;
		m->timer_remaining_ns = mul_div_u64(left, NS_PER_SEC, l->tsc_hz);
		m->timer_period_ns = mul_div_u64(l->timer_period, NS_PER_SEC, l->tsc_hz);
	}
}

/* The registers go in when the stream ends, before the device blobs that
 * are checked against them (the LVT timer mode); the timer is armed at GO. */
static void restore_lapic_registers(struct vlapic *l, const struct mig_lapic *m)
{
	l->id = m->id;
	l->tpr = m->tpr;
	l->svr = m->svr;
	l->ldr = m->ldr;
	l->dfr = m->dfr;
	l->esr = m->esr;
	l->icr_lo = m->icr_lo;
	l->icr_hi = m->icr_hi;
	l->lvt_timer = m->lvt_timer;
	l->lvt_thermal = m->lvt_thermal;
	l->lvt_perf = m->lvt_perf;
	l->lvt_lint0 = m->lvt_lint0;
	l->lvt_lint1 = m->lvt_lint1;
	l->lvt_error = m->lvt_error;
	l->lvt_cmci = m->lvt_cmci;
	l->timer_init = m->timer_init;
	l->timer_div = m->timer_div;
	memcpy(l->irr, m->irr, sizeof(l->irr));
	memcpy(l->isr, m->isr, sizeof(l->isr));
}

static void restore_lapic_timer(struct vlapic *l, const struct mig_lapic *m, uint64_t now)
{
	l->timer_period = l->timer_deadline = 0;
	if (m->timer_period_ns || m->timer_remaining_ns) {
		uint64_t period = mul_div_u64(m->timer_period_ns, l->tsc_hz, NS_PER_SEC);
		l->timer_period = period ? period : 1;
		l->timer_deadline = now + mul_div_u64(m->timer_remaining_ns, l->tsc_hz, NS_PER_SEC);
		l->timer_start = l->timer_deadline - l->timer_period;
	}
}

_Static_assert(VM_LINE_MAX <= MIG_UART_LINE, "the console line fits the UART record");

static void capture_uart(const struct vm *vm, const struct vuart *u, struct mig_uart *m)
{
	*m = (struct mig_uart){ .ier = u->ier, .lcr = u->lcr, .mcr = u->mcr, .scr = u->scr,
				.dll = u->dll, .dlm = u->dlm, .fcr = u->fcr };
	for (uint32_t i = u->rx_head; i != u->rx_tail && m->rx_len < MIG_UART_FIFO; i++)
		m->rx[m->rx_len++] = u->rx[i % VUART_RX_SIZE];
	/* A line the guest is half-way through goes along, so the console
	 * shows it whole on the destination. */
	m->line_len = (uint32_t)vm->out.line_len;
	memcpy(m->line, vm->out.line, vm->out.line_len);
}

static void restore_uart(struct vm *vm, struct vuart *u, const struct mig_uart *m)
{
	u->ier = m->ier;
	u->lcr = m->lcr;
	u->mcr = m->mcr;
	u->scr = m->scr;
	u->dll = m->dll;
	u->dlm = m->dlm;
	u->fcr = m->fcr;
	u->rx_head = u->rx_tail = 0;
	for (uint32_t i = 0; i < m->rx_len && i < VUART_RX_SIZE; i++)
		u->rx[u->rx_tail++] = m->rx[i];
	vm->out.line_len = m->line_len < VM_LINE_MAX ? m->line_len : VM_LINE_MAX - 1;
	memcpy(vm->out.line, m->line, vm->out.line_len);
}

static void capture_vcpu(struct vcpu *v, struct mig_vcpu *m, uint64_t now)
{
	vcpu_ops->get_state(v, &m->s);
	m->guest_tsc = now + m->s.tsc_offset;
	m->guest_tsc_hz = time_tsc_hz();
	memcpy(m->fpu, v->fpu, sizeof(m->fpu));
	m->halted = v->halted;
	m->pending_exception = v->pending_exception;
	m->exception = v->exception;
	m->msr_mtrr_def = v->msr_mtrr_def;
	memcpy(m->msr_mtrr, v->msr_mtrr, sizeof(m->msr_mtrr));
	m->msr_tsc_aux = v->msr_tsc_aux;
}

/* The MSRs of a VCPU_MSRS record and where each lives in the vCPU. */
static uint64_t *msr_slot(struct vcpu *v, uint32_t msr)
{
	if (msr >= MSR_AMD_PERF_EVTSEL0 && msr < MSR_AMD_PERF_CTR0)
		return &v->msr_perf_sel[msr - MSR_AMD_PERF_EVTSEL0];
	if (msr >= MSR_AMD_PERF_CTR0 && msr < MSR_AMD_PERF_CTR0 + 4)
		return &v->msr_perf_ctr[msr - MSR_AMD_PERF_CTR0];
	return NULL;
}

static void capture_msrs(struct vcpu *v, unsigned index, struct mig_vcpu_msrs *m)
{
	m->index = index;
	m->count = 0;
	for (uint32_t msr = MSR_AMD_PERF_EVTSEL0; msr < MSR_AMD_PERF_CTR0 + 4; msr++) {
		uint64_t value = *msr_slot(v, msr);
		if (value) { /* power-on values stay off the wire */
			m->msr[m->count] = msr;
			m->value[m->count++] = value;
		}
	}
}

static void restore_msrs(struct vcpu *v, const struct mig_vcpu_msrs *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		uint64_t *slot = msr_slot(v, m->msr[i]);
		if (slot) /* the decoder admitted only these */
			*slot = m->value[i];
	}
}

static void capture_ap(struct vm *vm, unsigned i, struct mig_ap *a, uint64_t now)
{
	struct vcpu *v = &vm->vcpus[i];

	a->index = i;
	capture_vcpu(v, &a->vcpu, now);
	capture_lapic(&v->lapic, &a->lapic, now);
	vlapic_save_extra(&v->lapic, a->lapic_extra, sizeof(a->lapic_extra));
	a->wait_for_sipi = v->wait_for_sipi;
	a->kvmclock_msr = vm->kvmclock.system_time_msr[i];
}

void mig_vm_capture(struct vm *vm, struct mig_vm_state *st, uint64_t now)
{
	memset(st, 0, sizeof(*st));
	bool held = vm_hold(vm); /* its vCPUs' registers, off the CPU that runs it */
	/* An INIT or start-up IPI that has not been acted on yet is, now: the
	 * stream carries vCPU states, not signals in flight. */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_take_signals(&vm->vcpus[i]);
	fpu_save_live(); /* whichever vCPU's registers are live go to its area */
	capture_vcpu(vm_bsp(vm), &st->vcpu, now);
	capture_lapic(&vm_bsp(vm)->lapic, &st->lapic, now);
	st->nvcpus = vm->nvcpus;
	for (unsigned i = 1; i < vm->nvcpus; i++)
		capture_ap(vm, i, &st->ap[i - 1], now);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		capture_msrs(&vm->vcpus[i], i, &st->msrs[i]);
	capture_uart(vm, &vm->uart, &st->uart);
	st->platform.vm_clock_ns = platform_clock(vm);
	st->platform.resets = vm->resets;
	st->modules.count = (uint32_t)vm->nmodules;
	for (size_t i = 0; i < vm->nmodules && i < MIG_MODULES_MAX; i++)
		str_copy(st->modules.spec[i], vm->modules[i], MIG_MODULE_SPEC);
	st->ndev = mig_devices_capture(vm, st->dev);
	st->placement.count = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		st->placement.cpu[i] = __atomic_load_n(&vm->vcpus[i].cpu, __ATOMIC_RELAXED);
	if (held)
		vm_release(vm);
}

_Static_assert(MIG_MODULES_MAX == VM_MAX_MODULES && MIG_MODULE_SPEC == VM_MODULE_SPEC_MAX,
	       "the MODULES record holds what a VM keeps");
_Static_assert(MIG_VCPUS_MAX == VM_MAX_VCPUS, "the stream carries every vCPU a VM may have");

/* IA32_APIC_BASE is checked against the physical-address width the guest
 * is shown, as its own WRMSR would be. */
static int apply_ap_lapic(struct vm *vm, const struct mig_ap *a, char *err, size_t errlen)
{
	struct vlapic *l = &vm->vcpus[a->index].lapic;
	unsigned maxphyaddr = cpuid_guest_maxphyaddr(&vm->cpuid);
	char why[160];

	restore_lapic_registers(l, &a->lapic);
	if (vlapic_load_extra(l, a->lapic_extra, sizeof(a->lapic_extra), maxphyaddr, why,
			      sizeof(why))) {
		fmt_snprintf(err, errlen, "vCPU %u: %s", a->index, why);
		return -1;
	}
	return 0;
}

int mig_vm_apply(struct vm *vm, const struct mig_vm_state *st, char *err, size_t errlen)
{
	restore_lapic_registers(&vm_bsp(vm)->lapic, &st->lapic);
	for (unsigned i = 1; i < st->nvcpus; i++)
		if (apply_ap_lapic(vm, &st->ap[i - 1], err, errlen))
			return -1;
	restore_uart(vm, &vm->uart, &st->uart);
	vm->nmodules = st->modules.count;
	for (size_t i = 0; i < vm->nmodules; i++)
		str_copy(vm->modules[i], st->modules.spec[i], sizeof(vm->modules[i]));
	vm->resets = st->platform.resets;
	return mig_devices_apply(vm, st->dev, st->ndev, err, errlen);
}

static void restore_vcpu(struct vcpu *v, const struct mig_vcpu *m, const struct mig_lapic *ml,
			 uint64_t now)
{
	struct vcpu_state s = m->s;

	/* The guest's TSC goes on from where it was (the clocks of both hosts
	 * may differ in rate; the guest learns the rate again from CPUID). */
	s.tsc_offset = m->guest_tsc - now;
	vcpu_ops->set_state(v, &s);
	v->regs = s.regs;
	fpu_forget(v->fpu);
	memcpy(v->fpu, m->fpu, sizeof(v->fpu));
	v->halted = m->halted;
	v->pending_exception = m->pending_exception;
	v->exception = m->exception;
	v->msr_mtrr_def = m->msr_mtrr_def;
	memcpy(v->msr_mtrr, m->msr_mtrr, sizeof(v->msr_mtrr));
	v->msr_tsc_aux = m->msr_tsc_aux;
	restore_lapic_timer(&v->lapic, ml, now);
	/* Re-times a TSC deadline from the extra blob, which the LAPIC
	 * record's timer fields cannot express. */
	vlapic_set_tsc_offset(&v->lapic, s.tsc_offset, now);
}

void mig_vm_restore(struct vm *vm, const struct mig_vm_state *st, uint64_t now)
{
	restore_vcpu(vm_bsp(vm), &st->vcpu, &st->lapic, now);
	for (unsigned i = 1; i < st->nvcpus; i++) {
		const struct mig_ap *a = &st->ap[i - 1];
		restore_vcpu(&vm->vcpus[i], &a->vcpu, &a->lapic, now);
		vm->vcpus[i].wait_for_sipi = a->wait_for_sipi;
		vm->kvmclock.system_time_msr[i] = a->kvmclock_msr;
	}
	for (unsigned i = 0; i < st->nvcpus; i++)
		restore_msrs(&vm->vcpus[i], &st->msrs[i]);
	/* The devices count from the VM clock: it goes on from the pause. */
	vm->plat.clock_base_ns = time_ns() - st->platform.vm_clock_ns;
	platform_timers_touched(&vm->plat);
	kvmclock_resume(vm);
	vuart_sync_irq(&vm->uart);
}

void mig_vm_config_of(const struct vm *vm, const char *name, struct mig_vm_config *c)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->name, name, sizeof(c->name));
	str_copy(c->image, vm->image_name, sizeof(c->image));
	str_copy(c->cmdline, vm->cmdline, sizeof(c->cmdline));
	c->mem_bytes = vm->mem.size;
	c->vcpus = vm->nvcpus;
	c->flags = vm->unbacked_stops ? MIG_VM_UNBACKED_STOP : 0;
}
