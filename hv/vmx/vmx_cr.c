/* Control-register accesses the CPU hands to the hypervisor.
 * Writes exit only when they touch host-owned bits of CR0/CR4 (those VMX
 * forces, see vmx_caps), CR3 when the CPU insists on CR3 exiting, and CR8
 * always: it is the local APIC's TPR, which belongs to the virtual APIC. */
#include "hv/vmx/vmx.h"

#include "hv/vm/vm.h"
#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"
#include "hv/x86/trap.h"

enum { CR_ACCESS_MOV_TO, CR_ACCESS_MOV_FROM, CR_ACCESS_CLTS, CR_ACCESS_LMSW };

static uint64_t guest_cr0(void)
{
	return vmx_cr_guest_view(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW),
				 vmread(VMCS_CR0_MASK));
}

static uint64_t guest_cr4(void)
{
	return vmx_cr_guest_view(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW),
				 vmread(VMCS_CR4_MASK));
}

static void set_long_mode_active(bool on)
{
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	uint32_t entry = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);

	vmwrite(VMCS_GUEST_EFER, on ? efer | EFER_LMA : efer & ~EFER_LMA);
	vmwrite(VMCS_ENTRY_CONTROLS,
		on ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~ENTRY_IA32E_MODE_GUEST);
}

void vmx_load_pdptes(struct vcpu *v)
{
	uint64_t pdpte[4] = { 0, 0, 0, 0 };

	if (!(guest_cr0() & CR0_PG) || !(guest_cr4() & CR4_PAE) ||
	    (vmread(VMCS_GUEST_EFER) & EFER_LMA))
		return;
	/* A CR3 outside guest RAM reads as zeros: the guest then faults. */
	gmem_read(&v->vm->mem, vmread(VMCS_GUEST_CR3) & ~0x1full, pdpte, sizeof(pdpte));
	for (int i = 0; i < 4; i++)
		vmwrite((enum vmcs_field)(VMCS_GUEST_PDPTE0 + 2 * i), pdpte[i]);
}

/* @return false when the value is one the guest may not load (#GP). */
static bool guest_write_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t old = guest_cr0();
	uint64_t efer = vmread(VMCS_GUEST_EFER);

	if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
	    ((value & CR0_NW) && !(value & CR0_CD)))
		return false;
	if (!(old & CR0_PG) && (value & CR0_PG) && (efer & EFER_LME)) {
		if (!(guest_cr4() & CR4_PAE))
			return false;
		set_long_mode_active(true);
	} else if ((old & CR0_PG) && !(value & CR0_PG) && (efer & EFER_LMA)) {
		set_long_mode_active(false);
	}
	vmwrite(VMCS_CR0_SHADOW, value);
	vmwrite(VMCS_GUEST_CR0, vmx_cr_real(&vmx_caps.cr0, value));
	vmx_load_pdptes(v);
	return true;
}

static bool guest_write_cr4(struct vcpu *v, uint64_t value)
{
	const struct vmx_cr_rules *r = &vmx_caps.cr4;

	if ((value & ~r->fixed1) || (value & CR4_VMXE))
		return false; /* beyond what the CPU has, or VMX itself */
	if (!(value & CR4_PAE) && (vmread(VMCS_GUEST_EFER) & EFER_LMA))
		return false;
	vmwrite(VMCS_CR4_SHADOW, value);
	vmwrite(VMCS_GUEST_CR4, vmx_cr_real(r, value));
	vmx_load_pdptes(v);
	return true;
}

static bool mov_to_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
	switch (cr) {
	case 0:
		return guest_write_cr0(v, value);
	case 3:
		vmwrite(VMCS_GUEST_CR3, value);
		vmx_load_pdptes(v);
		return true;
	case 4:
		return guest_write_cr4(v, value);
	case 8:
		if (value > 15)
			return false;
		v->lapic.tpr = (uint32_t)value << 4;
		return true;
	}
	return false;
}

static uint64_t mov_from_cr(struct vcpu *v, unsigned cr)
{
	return cr == 3 ? vmread(VMCS_GUEST_CR3) : (v->lapic.tpr >> 4) & 15;
}

void vmx_handle_cr_access(struct vcpu *v, struct vm_exit *e, uint64_t qualification)
{
	unsigned cr = qualification & 15;
	unsigned type = (qualification >> 4) & 3;
	uint64_t *gpr = vcpu_gpr(&v->regs, (qualification >> 8) & 15);
	bool ok = true;

	e->kind = EXIT_NONE;
	switch (type) {
	case CR_ACCESS_MOV_TO:
		ok = mov_to_cr(v, cr, *gpr);
		break;
	case CR_ACCESS_MOV_FROM:
		*gpr = mov_from_cr(v, cr);
		break;
	case CR_ACCESS_CLTS:
		ok = guest_write_cr0(v, guest_cr0() & ~CR0_TS);
		break;
	case CR_ACCESS_LMSW: {
		/* LMSW loads PE, MP, EM, TS but can never clear PE. */
		uint64_t cr0 = guest_cr0();
		uint64_t source = (qualification >> 16) & 0xf;
		ok = guest_write_cr0(v, (cr0 & ~0xeull) | source | (cr0 & CR0_PE));
		break;
	}
	}
	if (ok)
		v->regs.rip += e->insn_len;
	else
		vcpu_queue_exception(v, VEC_GP, true, 0);
}
