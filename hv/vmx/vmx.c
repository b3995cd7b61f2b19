/* Intel VMX backend: VMCS life cycle, VM entry, event injection. */
#include "hv/vmx/vmx.h"

#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#define VPID_COUNT 64 /* VPID 0 is the host's; vCPUs beyond 63 run untagged (flushed) */

/* Per CPU: the physical address VMPTRLD last loaded there. */
static uint64_t current_vmcs[CPU_MAX];
static uint64_t vpids_used = 1; /* bit n: VPID n taken */

extern char vmx_exit_point[];

static struct vmx_vcpu *vmx(struct vcpu *v)
{
	return v->vendor;
}

static void vmptrld(uint64_t pa)
{
	__asm__ volatile("vmptrld %0" : : "m"(pa) : "cc", "memory");
	current_vmcs[this_cpu_index()] = pa;
}

static void vmclear(uint64_t pa)
{
	__asm__ volatile("vmclear %0" : : "m"(pa) : "cc", "memory");
	if (current_vmcs[this_cpu_index()] == pa)
		current_vmcs[this_cpu_index()] = 0;
}

void vmx_load_vmcs(struct vcpu *v)
{
	if (current_vmcs[this_cpu_index()] != vmx(v)->vmcs_pa)
		vmptrld(vmx(v)->vmcs_pa);
}

/* The VMCS comes to this CPU (it was VMCLEARed where it was): its host
 * state names this CPU's GDT, TSS and GS, and the EPT and VPID
 * translations this CPU may still cache from an earlier stint are stale. */
static void vmx_load(struct vcpu *v)
{
	struct vmx_vcpu *vx = vmx(v);

	vmx_load_vmcs(v);
	vmx_write_host_state();
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_CONTROLS) & ~PROC_PAUSE_EXITING;
	if (v->pause_ends_turn)
		proc |= vmx_caps.proc & PROC_PAUSE_EXITING; /* where the CPU offers it */
	vmwrite(VMCS_PROC_CONTROLS, proc);
	vmx_invept(((struct vmx_vm *)v->vm->vendor)->eptp);
	vmx_invvpid(vx->vpid);
}

/* Done here: the MSRs back into the vCPU, the VMCS written back to memory
 * and made clear, so that another CPU may VMPTRLD it (and VMLAUNCH it). */
static void vmx_put(struct vcpu *v)
{
	struct vmx_vcpu *vx = vmx(v);

	vmx_msr_put(v);
	vmclear(vx->vmcs_pa);
	vx->launched = false;
}

void vmx_clear_all_vmcs(void)
{
	int32_t self = (int32_t)this_cpu_index();

	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_slot(i);
		for (unsigned k = 0; vm && k < vm->nvcpus; k++) {
			struct vcpu *v = &vm->vcpus[k];
			/* Not one another CPU has loaded: VMCLEAR there only. */
			int32_t loaded = __atomic_load_n(&v->gate.loaded_on, __ATOMIC_SEQ_CST);
			if (!v->vendor || (loaded >= 0 && loaded != self))
				continue;
			vmclear(vmx(v)->vmcs_pa);
			vmx(v)->launched = false;
		}
	}
}

static uint16_t vpid_alloc(void)
{
	for (unsigned i = 1; i < VPID_COUNT; i++) {
		if (!(vpids_used & (1ull << i))) {
			vpids_used |= 1ull << i;
			return (uint16_t)i;
		}
	}
	return 0; /* none left: this vCPU shares the host's untagged TLB */
}

static void vpid_free(uint16_t vpid)
{
	if (vpid)
		vpids_used &= ~(1ull << vpid);
}

static int vmx_vm_init(struct vm *vm)
{
	struct vmx_vm *xv = kzalloc(sizeof(*xv));

	if (!xv)
		return -1;
	xv->eptp = vm->slpt.root | EPTP_WB | EPTP_WALK_4;
	vm->vendor = xv;
	return 0;
}

static void vmx_vm_destroy(struct vm *vm)
{
	kfree(vm->vendor);
	vm->vendor = NULL;
}

/* Control and host fields; guest state comes from set_state. */
static void write_controls(struct vcpu *v)
{
	const struct vmx_caps *c = &vmx_caps;
	struct vmx_vcpu *vx = vmx(v);
	uint32_t proc = c->proc, proc2 = c->proc2;

	if (!vx->vpid)
		proc2 &= ~PROC2_ENABLE_VPID;
	if (!v->pause_ends_turn)
		proc &= ~PROC_PAUSE_EXITING;
	vmwrite(VMCS_PIN_CONTROLS, c->pin);
	vmwrite(VMCS_PROC_CONTROLS, proc);
	vmwrite(VMCS_PROC_CONTROLS2, proc2);
	vmwrite(VMCS_EXIT_CONTROLS, c->exit);
	vmwrite(VMCS_ENTRY_CONTROLS, c->entry);
	/* Only #MC: the host must see its machine checks, not the guest. */
	/* #AC raised while delivering #AC loops inside the CPU with no exit
	 * (CVE-2015-5307): intercepted, each turn is an exit. */
	vmwrite(VMCS_EXCEPTION_BITMAP, (1u << VEC_MC) | (1u << VEC_AC));
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_MSR_BITMAP, vmx_msr_bitmap_pa());
	vmwrite(VMCS_EPT_POINTER, ((struct vmx_vm *)v->vm->vendor)->eptp);
	if (vx->vpid)
		vmwrite(VMCS_VPID, vx->vpid);
	vmwrite(VMCS_CR0_MASK, vmx_cr_host_mask(&c->cr0));
	vmwrite(VMCS_CR4_MASK, vmx_cr_host_mask(&c->cr4));
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DEBUG, 0);
	vmx_write_host_state();
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
}

static int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *vx = kzalloc(sizeof(*vx));

	if (!vx)
		return -1;
	vx->vmcs_pa = page_alloc();
	if (!vx->vmcs_pa) {
		kfree(vx);
		return -1;
	}
	*(uint32_t *)phys_to_virt(vx->vmcs_pa) = vmx_caps.revision;
	vx->vpid = vmx_caps.vpid ? vpid_alloc() : 0;
	v->vendor = vx;
	vmclear(vx->vmcs_pa);
	vmptrld(vx->vmcs_pa);
	write_controls(v);
	/* The tables may reuse a destroyed VM's pages and VPID: drop whatever
	 * translations the CPU still caches for them. */
	vmx_invept(((struct vmx_vm *)v->vm->vendor)->eptp);
	vmx_invvpid(vx->vpid);
	return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *vx = vmx(v);

	vmclear(vx->vmcs_pa);
	vmx_msr_forget(v);
	if (vx->pml_pa)
		page_free(vx->pml_pa);
	vpid_free(vx->vpid);
	page_free(vx->vmcs_pa);
	kfree(vx);
	v->vendor = NULL;
}

/* An event the exit interrupted (IDT vectoring) is delivered again. */
static void reinject_interrupted_event(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(1u << 12)); /* bit 12 is reserved on entry */
	if (info & INTR_INFO_ERROR_VALID)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
}

static void vmx_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *vx = vmx(v);

	vmx_load_vmcs(v);
	/* An emulated instruction was skipped: the STI/MOV SS shadow covered
	 * only that instruction. */
	if (vmread(VMCS_GUEST_RIP) != v->regs.rip) {
		uint64_t shadow = vmread(VMCS_GUEST_INTERRUPTIBILITY);
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			shadow & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
		vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	}
	vmwrite(VMCS_GUEST_RSP, v->regs.rsp);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	vmx_msr_switch_to(v);

	irq_disable();
	if (read_cr2() != vx->cr2)
		write_cr2(vx->cr2);
	int failed = vmx_enter(&v->regs, vx->launched);
	vx->cr2 = read_cr2();
	/* The host interrupt that ended the guest's run is taken here. */
	__asm__ volatile("sti; nop; cli" ::: "memory");

	if (failed) {
		*exit = (struct vm_exit){ .kind = EXIT_INVALID_STATE, .code = VMX_EXIT_VMFAIL,
					  .info1 = vmread(VMCS_INSN_ERROR) };
		return;
	}
	vx->launched = true;
	v->regs.rsp = vmread(VMCS_GUEST_RSP);
	v->regs.rip = vmread(VMCS_GUEST_RIP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	reinject_interrupted_event();
	vmx_decode_exit(v, exit);
}

static void vmx_inject(struct vcpu *v, const struct vcpu_event *e)
{
	static const uint32_t types[] = {
		[EVENT_INTERRUPT] = INTR_TYPE_EXTERNAL, [EVENT_NMI] = INTR_TYPE_NMI,
		[EVENT_EXCEPTION] = INTR_TYPE_HW_EXCEPTION, [EVENT_SOFT_INT] = INTR_TYPE_SOFT_INT,
	};
	uint32_t info = e->vector | (types[e->type] << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;

	vmx_load_vmcs(v);
	/* Real mode has no error codes; VM entry would refuse one. */
	if (e->has_error && (vmread(VMCS_CR0_SHADOW) & CR0_PE)) {
		info |= INTR_INFO_ERROR_VALID;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, e->error);
	}
	if (e->type == EVENT_SOFT_INT)
		vmwrite(VMCS_ENTRY_INSN_LEN, 2); /* INT n */
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static bool vmx_can_take_interrupt(struct vcpu *v)
{
	vmx_load_vmcs(v);
	uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY) &
			    (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	/* The shadow no longer applies once the hypervisor moved RIP on. */
	bool shadow = blocking && vmread(VMCS_GUEST_RIP) == v->regs.rip;

	return (v->regs.rflags & RFLAGS_IF) && !shadow &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_request_interrupt_window(struct vcpu *v, bool on)
{
	vmx_load_vmcs(v);
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_CONTROLS);

	vmwrite(VMCS_PROC_CONTROLS, on ? proc | PROC_INTERRUPT_WINDOW_EXITING :
					 proc & ~PROC_INTERRUPT_WINDOW_EXITING);
}

static void vmx_drop_events(struct vcpu *v)
{
	vmx_request_interrupt_window(v, false);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

static void vmx_flush_guest_tlb(struct vm *vm)
{
	vmx_invept(((struct vmx_vm *)vm->vendor)->eptp);
}

static const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.title = "Intel VMX",
	.slpt_format = &pt_format_ept,
	.probe = vmx_probe,
	.describe = vmx_describe,
	.hw_enable = vmx_hw_enable,
	.hw_enable_cpu = vmx_hw_enable_cpu,
	.hw_disable = vmx_hw_disable,
	.hw_reenable = vmx_hw_reenable,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.vcpu_create = vmx_vcpu_create,
	.load = vmx_load,
	.put = vmx_put,
	.vcpu_destroy = vmx_vcpu_destroy,
	.run = vmx_run,
	.get_state = vmx_get_state,
	.set_state = vmx_set_state,
	.inject = vmx_inject,
	.can_take_interrupt = vmx_can_take_interrupt,
	.request_interrupt_window = vmx_request_interrupt_window,
	.drop_events = vmx_drop_events,
	.flush_guest_tlb = vmx_flush_guest_tlb,
	.dirty_modes = vmx_dirty_modes,
	.dirty_start = vmx_dirty_start,
	.dirty_stop = vmx_dirty_stop,
	.dirty_collect = vmx_dirty_collect,
	.exit_name = vmx_exit_name,
	.exit_slot = vmx_exit_slot,
	.slot_code = vmx_slot_code,
};

VCPU_BACKEND(vmx_ops);
