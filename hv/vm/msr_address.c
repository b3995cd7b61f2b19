/* The MSRs that hold a linear address, which the backends let a guest read
 * without an exit and send its writes to the policy. */
#include "hv/vm/msr_policy.h"

#include "hv/vm/cpuid_policy.h"
#include "hv/vm/vcpu.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"


/* The MSRs that hold an address, which the backends let the guest read
 * directly and send writes here: a non-canonical value #GPs (SDM WRMSR:
 * the FS/GS bases, KERNEL_GS_BASE, LSTAR, SYSENTER_ESP/EIP; APM: LSTAR,
 * CSTAR, the FS/GS bases), except where the vendor keeps no check: AMD
 * drops SYSENTER_ESP/EIP's upper half, Intel never uses CSTAR. */
static uint64_t *address_msr(struct vcpu *v, struct vcpu_state *s, uint32_t index,
			     bool *checked)
{
	bool intel = cpuid_guest_vendor(&v->vm->cpuid) == CPU_VENDOR_INTEL;

	*checked = true;
	switch (index) {
	case MSR_FS_BASE: return &s->seg[SEG_FS].base;
	case MSR_GS_BASE: return &s->seg[SEG_GS].base;
	case MSR_KERNEL_GS_BASE: return &s->kernel_gs_base;
	case MSR_LSTAR: return &s->lstar;
	case MSR_CSTAR: *checked = !intel; return &s->cstar;
	case MSR_SYSENTER_ESP: *checked = intel; return &s->sysenter_esp;
	case MSR_SYSENTER_EIP: *checked = intel; return &s->sysenter_eip;
	}
	return NULL;
}

static bool is_address_msr(uint32_t index)
{
	return (index >= MSR_FS_BASE && index <= MSR_KERNEL_GS_BASE) || index == MSR_LSTAR ||
	       index == MSR_CSTAR || index == MSR_SYSENTER_ESP || index == MSR_SYSENTER_EIP;
}

bool msr_address_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	struct vcpu_state s;
	bool checked;

	if (!is_address_msr(index))
		return false;
	vcpu_ops->get_state(v, &s);
	uint64_t *field = address_msr(v, &s, index, &checked);
	if (field)
		*value = *field;
	return field;
}

bool msr_address_write(struct vcpu *v, uint32_t index, uint64_t value, bool *handled)
{
	struct vcpu_state s;
	bool checked;

	*handled = is_address_msr(index);
	if (!*handled)
		return false;
	vcpu_ops->get_state(v, &s);
	uint64_t *field = address_msr(v, &s, index, &checked);
	if (checked && !canonical_address(value))
		return false;
	*field = value;
	vcpu_ops->set_state(v, &s);
	return true;
}
