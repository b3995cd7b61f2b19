/* AMD SVM backend: VMCB setup, VMRUN, state access, event injection. */
#include "hv/svm/svm.h"

#include "hv/core/log.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#define IOPM_PAGES 3
#define MSRPM_PAGES 2

/* Each CPU's, by CPU index. */
static uint64_t host_vmcb_pa[CPU_MAX], hsave_pa[CPU_MAX];
static uint64_t iopm_pa, msrpm_pa;
static uint32_t asid_limit;
/* Per CPU: ASIDs tag that CPU's TLB only. Generation 0 is "none yet". */
static uint32_t next_asid[CPU_MAX], asid_generation[CPU_MAX];

void svm_enter(uint64_t guest_vmcb_pa, struct vcpu_regs *regs, uint64_t host_vmcb_pa_);

static inline void clgi(void)
{
	__asm__ volatile("clgi" ::: "memory");
}

static inline void stgi(void)
{
	__asm__ volatile("stgi" ::: "memory");
}

static inline struct svm_vcpu *svm(struct vcpu *v)
{
	return v->vendor;
}

/* MSRs the VMCB holds per guest (VMLOAD/VMSAVE move them): no exit. */
static const uint32_t passthrough_msrs[] = {
	MSR_STAR, MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};
/* ... read without an exit; a write exits, for the policy's canonical
 * check (not every CPU or emulator makes it). */
static const uint32_t read_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_CSTAR,
};

/* Two bits per MSR: read, then write. */
static void msrpm_allow(uint8_t *pm, uint32_t msr, unsigned bits)
{
	uint32_t region;

	if (msr < 0x2000)
		region = 0x000;
	else if (msr >= 0xc0000000u && msr < 0xc0002000u)
		region = 0x800;
	else if (msr >= 0xc0010000u && msr < 0xc0012000u)
		region = 0x1000;
	else
		return;
	uint32_t bit = (msr & 0x1fff) * 2;
	pm[region + bit / 8] &= (uint8_t)~(bits << (bit % 8));
}

/* SVM on the calling CPU: EFER.SVME, its host save area, and its host
 * VMCB, which VMSAVE fills with this CPU's TR, FS/GS (GS names this CPU's
 * record), SYSCALL and SYSENTER state, restored after every exit. */
static const char *svm_hw_enable_cpu(void)
{
	uint32_t cpu = this_cpu_index();

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	if (!hsave_pa[cpu])
		hsave_pa[cpu] = page_alloc();
	if (!host_vmcb_pa[cpu])
		host_vmcb_pa[cpu] = page_alloc();
	if (!hsave_pa[cpu] || !host_vmcb_pa[cpu])
		return "svm: out of memory for the host save area";
	wrmsr(MSR_VM_HSAVE_PA, hsave_pa[cpu]);
	__asm__ volatile("vmsave %%rax" : : "a"(host_vmcb_pa[cpu]) : "memory");
	return NULL;
}

static int svm_hw_enable(void)
{
	iopm_pa = pages_alloc(IOPM_PAGES, 1);
	msrpm_pa = pages_alloc(MSRPM_PAGES, 1);
	if (!iopm_pa || !msrpm_pa || svm_hw_enable_cpu())
		return -1;

	memset(phys_to_virt(iopm_pa), 0xff, IOPM_PAGES * PAGE_SIZE); /* every port exits */
	uint8_t *pm = phys_to_virt(msrpm_pa);
	memset(pm, 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (size_t i = 0; i < sizeof(passthrough_msrs) / sizeof(passthrough_msrs[0]); i++)
		msrpm_allow(pm, passthrough_msrs[i], 3);
	for (size_t i = 0; i < sizeof(read_passthrough_msrs) / sizeof(read_passthrough_msrs[0]); i++)
		msrpm_allow(pm, read_passthrough_msrs[i], 1);

	asid_limit = svm_caps.asids;
	log_info("svm: enabled, %u ASIDs, nrips %s, flush-by-asid %s", asid_limit,
		 svm_caps.nrips ? "yes" : "no", svm_caps.flush_by_asid ? "yes" : "no");
	return 0;
}

static void svm_hw_disable(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
}

static void svm_hw_reenable(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
}

static int svm_vm_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

static void svm_vm_destroy(struct vm *vm)
{
	(void)vm;
}

static int svm_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *sv = kzalloc(sizeof(*sv));

	if (!sv)
		return -1;
	sv->vmcb_pa = page_alloc();
	if (!sv->vmcb_pa) {
		kfree(sv);
		return -1;
	}
	sv->vmcb = phys_to_virt(sv->vmcb_pa);
	v->vendor = sv;

	struct vmcb_control *c = &sv->vmcb->control;
	c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			     SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_RDPMC;
	if (v->pause_ends_turn)
		c->intercept_misc1 |= SVM_INTERCEPT_PAUSE;
	c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
			     SVM_INTERCEPT_MWAIT_COND | SVM_INTERCEPT_XSETBV | SVM_INTERCEPT_WBINVD;
	/* The host must see its machine checks; the CPU then does not call
	 * the host's handler itself (the exit handler does). #AC raised while
	 * delivering #AC, and #DB while delivering #DB, loop inside the CPU
	 * with no exit and no interrupt window (CVE-2015-5307, CVE-2015-8104):
	 * intercepted, each turn of such a loop is an exit. */
	c->intercept_exceptions = (1u << VEC_MC) | (1u << VEC_AC) | (1u << VEC_DB);
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	/* Physical interrupts follow the host's IF while the guest runs. */
	c->int_ctl = SVM_V_INTR_MASKING;
	c->np_control = 1;
	c->n_cr3 = v->vm->slpt.root;
	sv->vmcb->save.efer = EFER_SVME;
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *sv = svm(v);

	page_free(sv->vmcb_pa);
	kfree(sv);
	v->vendor = NULL;
}

/* ASIDs tag guest TLB entries. When they run out, start a new generation
 * with one full flush; each vCPU takes a fresh ASID on its next run. */
static void assign_asid(struct svm_vcpu *sv)
{
	uint32_t cpu = this_cpu_index();

	if (sv->asid_generation && sv->asid_generation == asid_generation[cpu])
		return;
	if (!asid_generation[cpu] || next_asid[cpu] >= asid_limit) {
		asid_generation[cpu]++;
		next_asid[cpu] = 1;
		sv->vmcb->control.tlb_control = SVM_TLB_FLUSH_ALL;
	}
	sv->vmcb->control.guest_asid = next_asid[cpu]++;
	sv->asid_generation = asid_generation[cpu];
}

/* The VMCB comes to this CPU: its ASID was another CPU's. The host state
 * after #VMEXIT is this CPU's own (VM_HSAVE_PA, its host VMCB). */
static void svm_load(struct vcpu *v)
{
	struct vmcb_control *c = &svm(v)->vmcb->control;

	svm(v)->asid_generation = 0;
	c->intercept_misc1 = v->pause_ends_turn ? c->intercept_misc1 | SVM_INTERCEPT_PAUSE :
						  c->intercept_misc1 & ~SVM_INTERCEPT_PAUSE;
}

/* Nothing stays loaded in the CPU between runs (VMSAVE wrote it back). */
static void svm_put(struct vcpu *v)
{
	(void)v;
}

static void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *sv = svm(v);
	struct vmcb *vmcb = sv->vmcb;

	if (__atomic_exchange_n(&sv->flush_requested, false, __ATOMIC_ACQ_REL)) {
		if (svm_caps.flush_by_asid)
			vmcb->control.tlb_control = SVM_TLB_FLUSH_ASID;
		else
			sv->asid_generation = 0; /* a fresh ASID has no stale entries */
	}
	assign_asid(sv);
	/* An emulated instruction was skipped: the STI/MOV SS shadow covered
	 * only that instruction. */
	if (vmcb->save.rip != v->regs.rip)
		vmcb->control.int_state &= ~1ull;
	vmcb->save.rax = v->regs.rax;
	vmcb->save.rsp = v->regs.rsp;
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rflags = v->regs.rflags;
	vmcb->control.clean_bits = 0;

	/* GIF=0 around VMRUN; IF=1 so a host interrupt exits the guest and is
	 * taken right after STGI. */
	irq_disable();
	clgi();
	irq_enable();
	svm_enter(sv->vmcb_pa, &v->regs, host_vmcb_pa[this_cpu_index()]);
	stgi();
	irq_disable();

	vmcb->control.tlb_control = SVM_TLB_NONE;
	v->regs.rax = vmcb->save.rax;
	v->regs.rsp = vmcb->save.rsp;
	v->regs.rip = vmcb->save.rip;
	v->regs.rflags = vmcb->save.rflags;
	/* An event cut short by this exit is delivered again on the next entry. */
	if (vmcb->control.exit_int_info & SVM_EVENT_VALID)
		vmcb->control.event_inj = vmcb->control.exit_int_info;
	svm_decode_exit(v, vmcb, exit);
}

static void seg_out(const struct vmcb_seg *in, struct vcpu_segment *out)
{
	*out = (struct vcpu_segment){ in->selector, in->attrib, in->limit, in->base };
}

static void seg_in(const struct vcpu_segment *in, struct vmcb_seg *out)
{
	*out = (struct vmcb_seg){ in->selector, in->attr, in->limit, in->base };
}

static void svm_get_state(struct vcpu *v, struct vcpu_state *s)
{
	const struct vmcb_save *sa = &svm(v)->vmcb->save;
	const struct vmcb_control *c = &svm(v)->vmcb->control;

	s->regs = v->regs;
	seg_out(&sa->es, &s->seg[SEG_ES]);
	seg_out(&sa->cs, &s->seg[SEG_CS]);
	seg_out(&sa->ss, &s->seg[SEG_SS]);
	seg_out(&sa->ds, &s->seg[SEG_DS]);
	seg_out(&sa->fs, &s->seg[SEG_FS]);
	seg_out(&sa->gs, &s->seg[SEG_GS]);
	seg_out(&sa->ldtr, &s->seg[SEG_LDTR]);
	seg_out(&sa->tr, &s->seg[SEG_TR]);
	s->gdt = (struct vcpu_dtable){ sa->gdtr.base, sa->gdtr.limit };
	s->idt = (struct vcpu_dtable){ sa->idtr.base, sa->idtr.limit };
	s->cr0 = sa->cr0;
	s->cr2 = sa->cr2;
	s->cr3 = sa->cr3;
	s->cr4 = sa->cr4;
	s->efer = sa->efer & ~EFER_SVME; /* the guest never sees SVME */
	s->dr6 = sa->dr6;
	s->dr7 = sa->dr7;
	s->pat = sa->g_pat;
	s->star = sa->star;
	s->lstar = sa->lstar;
	s->cstar = sa->cstar;
	s->sfmask = sa->sfmask;
	s->kernel_gs_base = sa->kernel_gs_base;
	s->sysenter_cs = sa->sysenter_cs;
	s->sysenter_esp = sa->sysenter_esp;
	s->sysenter_eip = sa->sysenter_eip;
	s->tsc_offset = c->tsc_offset;
	s->interrupt_shadow = (uint32_t)(c->int_state & 1);
}

static void svm_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	struct vmcb_save *sa = &svm(v)->vmcb->save;
	struct vmcb_control *c = &svm(v)->vmcb->control;

	v->regs = s->regs;
	seg_in(&s->seg[SEG_ES], &sa->es);
	seg_in(&s->seg[SEG_CS], &sa->cs);
	seg_in(&s->seg[SEG_SS], &sa->ss);
	seg_in(&s->seg[SEG_DS], &sa->ds);
	seg_in(&s->seg[SEG_FS], &sa->fs);
	seg_in(&s->seg[SEG_GS], &sa->gs);
	seg_in(&s->seg[SEG_LDTR], &sa->ldtr);
	seg_in(&s->seg[SEG_TR], &sa->tr);
	sa->gdtr = (struct vmcb_seg){ 0, 0, s->gdt.limit, s->gdt.base };
	sa->idtr = (struct vmcb_seg){ 0, 0, s->idt.limit, s->idt.base };
	sa->cpl = (uint8_t)((s->seg[SEG_SS].attr >> 5) & 3);
	sa->cr0 = s->cr0;
	sa->cr2 = s->cr2;
	sa->cr3 = s->cr3;
	sa->cr4 = s->cr4;
	sa->efer = s->efer | EFER_SVME; /* VMRUN requires it */
	sa->dr6 = s->dr6;
	sa->dr7 = s->dr7;
	sa->g_pat = s->pat;
	sa->star = s->star;
	sa->lstar = s->lstar;
	sa->cstar = s->cstar;
	sa->sfmask = s->sfmask;
	sa->kernel_gs_base = s->kernel_gs_base;
	sa->sysenter_cs = s->sysenter_cs;
	sa->sysenter_esp = s->sysenter_esp;
	sa->sysenter_eip = s->sysenter_eip;
	sa->rax = s->regs.rax;
	sa->rsp = s->regs.rsp;
	sa->rip = s->regs.rip;
	sa->rflags = s->regs.rflags;
	c->tsc_offset = s->tsc_offset;
	c->int_state = s->interrupt_shadow & 1;
}

static void svm_inject(struct vcpu *v, const struct vcpu_event *e)
{
	static const uint64_t types[] = {
		[EVENT_INTERRUPT] = 0, [EVENT_NMI] = 2, [EVENT_EXCEPTION] = 3, [EVENT_SOFT_INT] = 4,
	};
	uint64_t inj = e->vector | (types[e->type] << SVM_EVENT_TYPE_SHIFT) | SVM_EVENT_VALID;

	/* Real mode has no error codes (as VMX's entry check insists). */
	if (e->has_error && (svm(v)->vmcb->save.cr0 & CR0_PE))
		inj |= SVM_EVENT_ERROR_VALID | ((uint64_t)e->error << 32);
	svm(v)->vmcb->control.event_inj = inj;
}

static bool svm_can_take_interrupt(struct vcpu *v)
{
	const struct vmcb *vmcb = svm(v)->vmcb;

	/* The shadow no longer applies once the hypervisor moved RIP on. */
	bool shadow = (vmcb->control.int_state & 1) && vmcb->save.rip == v->regs.rip;

	return (v->regs.rflags & RFLAGS_IF) && !shadow &&
	       !(vmcb->control.event_inj & SVM_EVENT_VALID);
}

/* A virtual interrupt request with VINTR intercepted: the CPU exits as soon
 * as the guest could take it; the real interrupt is then injected. */
static void svm_request_interrupt_window(struct vcpu *v, bool on)
{
	struct vmcb_control *c = &svm(v)->vmcb->control;

	if (on) {
		c->int_ctl |= SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT);
		c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		c->int_ctl &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT));
		c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
}

static void svm_drop_events(struct vcpu *v)
{
	svm_request_interrupt_window(v, false);
	svm(v)->vmcb->control.event_inj = 0;
}

static void svm_flush_guest_tlb(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		__atomic_store_n(&svm(&vm->vcpus[i])->flush_requested, true, __ATOMIC_RELEASE);
}

/* NPT leaves get accessed/dirty bits from the CPU whenever it walks them
 * (AMD and QEMU TCG alike): nothing to switch, no log to collect. */
static unsigned svm_dirty_modes(void)
{
	return 1u << DIRTY_MODE_AD;
}

static int svm_dirty_start(struct vm *vm, enum dirty_mode mode)
{
	(void)vm;
	return mode == DIRTY_MODE_WP || mode == DIRTY_MODE_AD ? 0 : -1;
}

static void svm_dirty_stop(struct vm *vm, enum dirty_mode mode)
{
	(void)vm;
	(void)mode;
}

static const struct vcpu_ops svm_ops = {
	.name = "svm",
	.title = "AMD SVM",
	.slpt_format = &pt_format_npt,
	.probe = svm_probe,
	.describe = svm_describe,
	.hw_enable = svm_hw_enable,
	.hw_enable_cpu = svm_hw_enable_cpu,
	.load = svm_load,
	.put = svm_put,
	.hw_disable = svm_hw_disable,
	.hw_reenable = svm_hw_reenable,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.run = svm_run,
	.get_state = svm_get_state,
	.set_state = svm_set_state,
	.inject = svm_inject,
	.can_take_interrupt = svm_can_take_interrupt,
	.request_interrupt_window = svm_request_interrupt_window,
	.drop_events = svm_drop_events,
	.flush_guest_tlb = svm_flush_guest_tlb,
	.dirty_modes = svm_dirty_modes,
	.dirty_start = svm_dirty_start,
	.dirty_stop = svm_dirty_stop,
	.exit_name = svm_exit_name,
	.exit_slot = svm_exit_slot,
	.slot_code = svm_slot_code,
};

VCPU_BACKEND(svm_ops);
