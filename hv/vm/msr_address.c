/* The MSRs that hold a linear address, which the backends let a guest read
 * without an exit and send its writes to the policy. */
#include "hv/vm/msr_policy.h"

#include <stddef.h>

#include "hv/vm/cpuid_policy.h"
#include "hv/vm/vcpu.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"


/* The MSRs that hold an address, which the backends let the guest read
 * directly and send writes here: a non-canonical value #GPs (SDM WRMSR:
 * the FS/GS bases, KERNEL_GS_BASE, LSTAR, SYSENTER_ESP/EIP; APM: LSTAR,
 * CSTAR, the FS/GS bases), except where the vendor keeps no check: AMD
 * drops SYSENTER_ESP/EIP's upper half, Intel never uses CSTAR.
 * Where the MSR lives in struct vcpu_state, or -1 for any other MSR: known
 * before the state is fetched, which the other MSRs need not pay for. */
static long address_field(const struct vcpu *v, uint32_t index, bool *checked)
{
	bool intel = cpuid_guest_vendor(&v->vm->cpuid) == CPU_VENDOR_INTEL;

	*checked = true;
	switch (index) {
	case MSR_FS_BASE: return offsetof(struct vcpu_state, seg[SEG_FS].base);
	case MSR_GS_BASE: return offsetof(struct vcpu_state, seg[SEG_GS].base);
	case MSR_KERNEL_GS_BASE: return offsetof(struct vcpu_state, kernel_gs_base);
	case MSR_LSTAR: return offsetof(struct vcpu_state, lstar);
	case MSR_CSTAR: *checked = !intel; return offsetof(struct vcpu_state, cstar);
	case MSR_SYSENTER_ESP: *checked = intel; return offsetof(struct vcpu_state, sysenter_esp);
	case MSR_SYSENTER_EIP: *checked = intel; return offsetof(struct vcpu_state, sysenter_eip);
	}
	return -1;
}

static uint64_t *field_of(struct vcpu_state *s, long offset)
{
	return (uint64_t *)((char *)s + offset);
}

bool msr_address_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	struct vcpu_state s;
	bool checked;
	long offset = address_field(v, index, &checked);

	if (offset < 0)
		return false;
	vcpu_ops->get_state(v, &s);
	*value = *field_of(&s, offset);
	return true;
}

bool msr_address_write(struct vcpu *v, uint32_t index, uint64_t value, bool *handled)
{
	struct vcpu_state s;
	bool checked;
	long offset = address_field(v, index, &checked);

	*handled = offset >= 0;
	if (!*handled)
		return false;
	if (checked && !canonical_address(value))
		return false;
	vcpu_ops->get_state(v, &s);
	*field_of(&s, offset) = value;
	vcpu_ops->set_state(v, &s);
	return true;
}
