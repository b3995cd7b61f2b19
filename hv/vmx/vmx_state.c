/* Moving a vCPU's architectural state in and out of its VMCS. Control
 * registers are shown as the guest set them: bits VMX forces (CR0.NE,
 * CR4.VMXE) come from the read shadows. */
#include "hv/vmx/vmx.h"

#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"

/* Per-segment fields are laid out 2 encodings apart, ES first. */
#define SEG_FIELD(base, i) ((enum vmcs_field)((base) + 2 * (i)))

/* vcpu_state's order matches the VMCS order (ES CS SS DS FS GS LDTR TR). */
_Static_assert(SEG_ES == 0 && SEG_CS == 1 && SEG_SS == 2 && SEG_DS == 3 && SEG_FS == 4 &&
	       SEG_GS == 5 && SEG_LDTR == 6 && SEG_TR == 7, "segment order");

static struct vmx_vcpu *vmx(struct vcpu *v)
{
	return v->vendor;
}

void vmx_get_state(struct vcpu *v, struct vcpu_state *s)
{
	struct vmx_vcpu *vx = vmx(v);

	vmx_load_vmcs(v);
	vmx_msr_sync(v);
	s->regs = v->regs;
	for (int i = 0; i < SEG_COUNT; i++) {
		s->seg[i].selector = (uint16_t)vmread(SEG_FIELD(VMCS_GUEST_ES_SEL, i));
		s->seg[i].limit = (uint32_t)vmread(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i));
		s->seg[i].base = vmread(SEG_FIELD(VMCS_GUEST_ES_BASE, i));
		s->seg[i].attr = vmx_attr_from_ar((uint32_t)vmread(SEG_FIELD(VMCS_GUEST_ES_AR, i)));
	}
	s->gdt = (struct vcpu_dtable){ vmread(VMCS_GUEST_GDTR_BASE),
				       (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT) };
	s->idt = (struct vcpu_dtable){ vmread(VMCS_GUEST_IDTR_BASE),
				       (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT) };
	s->cr0 = vmx_cr_guest_view(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW),
				   vmread(VMCS_CR0_MASK));
	s->cr4 = vmx_cr_guest_view(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW),
				   vmread(VMCS_CR4_MASK));
	s->cr2 = vx->cr2;
	s->cr3 = vmread(VMCS_GUEST_CR3);
	s->efer = vmread(VMCS_GUEST_EFER);
	s->dr6 = 0xffff0ff0; /* DR6 is not switched; guests see the reset value */
	s->dr7 = vmread(VMCS_GUEST_DR7);
	s->pat = vmread(VMCS_GUEST_PAT);
	s->star = vx->msrs[VMX_MSR_STAR];
	s->lstar = vx->msrs[VMX_MSR_LSTAR];
	s->cstar = vx->msrs[VMX_MSR_CSTAR];
	s->sfmask = vx->msrs[VMX_MSR_SFMASK];
	s->kernel_gs_base = vx->msrs[VMX_MSR_KGS_BASE];
	s->sysenter_cs = vmread(VMCS_GUEST_SYSENTER_CS);
	s->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
	s->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
	s->tsc_offset = vmread(VMCS_TSC_OFFSET);
	s->interrupt_shadow = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY) &
			      (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
}

void vmx_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	struct vmx_vcpu *vx = vmx(v);
	uint32_t entry;

	vmx_load_vmcs(v);
	v->regs = s->regs;
	for (int i = 0; i < SEG_COUNT; i++) {
		vmwrite(SEG_FIELD(VMCS_GUEST_ES_SEL, i), s->seg[i].selector);
		vmwrite(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i), s->seg[i].limit);
		vmwrite(SEG_FIELD(VMCS_GUEST_ES_BASE, i), s->seg[i].base);
		vmwrite(SEG_FIELD(VMCS_GUEST_ES_AR, i), vmx_ar_from_attr(s->seg[i].attr));
	}
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdt.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdt.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, s->idt.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idt.limit);
	vmwrite(VMCS_CR0_SHADOW, s->cr0);
	vmwrite(VMCS_GUEST_CR0, vmx_cr_real(&vmx_caps.cr0, s->cr0));
	vmwrite(VMCS_CR4_SHADOW, s->cr4);
	vmwrite(VMCS_GUEST_CR4, vmx_cr_real(&vmx_caps.cr4, s->cr4));
	vx->cr2 = s->cr2;
	vmwrite(VMCS_GUEST_CR3, s->cr3);
	vmwrite(VMCS_GUEST_EFER, s->efer);
	entry = (uint32_t)vmread(VMCS_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST;
	vmwrite(VMCS_ENTRY_CONTROLS, entry | ((s->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
	vmwrite(VMCS_GUEST_DR7, s->dr7);
	vmwrite(VMCS_GUEST_PAT, s->pat);
	vx->msrs[VMX_MSR_STAR] = s->star;
	vx->msrs[VMX_MSR_LSTAR] = s->lstar;
	vx->msrs[VMX_MSR_CSTAR] = s->cstar;
	vx->msrs[VMX_MSR_SFMASK] = s->sfmask;
	vx->msrs[VMX_MSR_KGS_BASE] = s->kernel_gs_base;
	vmx_msr_forget(v); /* reloaded from vx->msrs before the next entry */
	vmwrite(VMCS_GUEST_SYSENTER_CS, s->sysenter_cs);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, s->sysenter_esp);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, s->sysenter_eip);
	vmwrite(VMCS_GUEST_RSP, s->regs.rsp);
	vmwrite(VMCS_GUEST_RIP, s->regs.rip);
	vmwrite(VMCS_GUEST_RFLAGS, s->regs.rflags);
	vmwrite(VMCS_TSC_OFFSET, s->tsc_offset);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, s->interrupt_shadow &
		(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	vmx_load_pdptes(v);
}
