#include "hv/msr_policy.h"

#include "hv/vcpu.h"
#include "hv/vdev/vlapic.h"
#include "hv/x86/cpu.h"

enum {
	MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APICBASE = 0x1b, MSR_FEAT_CTL = 0x3a,
	MSR_BIOS_SIGN = 0x8b, MSR_MTRRCAP = 0xfe, MSR_MCGCAP = 0x179, MSR_MCGSTATUS = 0x17a,
	MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_PHYS_FIRST = 0x200, MSR_MTRR_PHYS_LAST = 0x20f,
	MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80 = 0x258, MSR_MTRR_FIX16K_A0 = 0x259,
	MSR_MTRR_FIX4K_FIRST = 0x268, MSR_MTRR_FIX4K_LAST = 0x26f, MSR_GPAT = 0x277,
	MSR_MTRR_DEF = 0x2ff, MSR_TSCAUX = 0xc0000103u,
};

#define APICBASE_BSP (1ull << 8)
#define APICBASE_ENABLE (1ull << 11)
#define MTRR_DEF_ENABLED_WB 0xc06ull

static int mtrr_slot(uint32_t index)
{
	if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST)
		return (int)(index - MSR_MTRR_PHYS_FIRST);
	if (index == MSR_MTRR_FIX64K)
		return 16;
	if (index == MSR_MTRR_FIX16K_80 || index == MSR_MTRR_FIX16K_A0)
		return 17 + (int)(index - MSR_MTRR_FIX16K_80);
	if (index >= MSR_MTRR_FIX4K_FIRST && index <= MSR_MTRR_FIX4K_LAST)
		return 19 + (int)(index - MSR_MTRR_FIX4K_FIRST);
	return -1;
}

static uint64_t guest_tsc_offset(struct vcpu *v)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	return s.tsc_offset;
}

void msr_guest_init(struct vcpu *v)
{
	v->msr_mtrr_def = MTRR_DEF_ENABLED_WB;
}

bool msr_guest_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	int slot = mtrr_slot(index);

	if (slot >= 0) {
		*value = v->msr_mtrr[slot];
		return true;
	}
	switch (index) {
	case MSR_TSC: *value = rdtsc() + guest_tsc_offset(v); return true;
	case MSR_PLATFORM_ID: *value = 0; return true;
	case MSR_APICBASE: *value = VLAPIC_BASE | APICBASE_BSP | APICBASE_ENABLE; return true;
	case MSR_FEAT_CTL: *value = 1; return true; /* locked, VMX off */
	case MSR_BIOS_SIGN: *value = 0; return true;
	case MSR_MTRRCAP: *value = 0x500; return true; /* fixed ranges + WC, no variable */
	case MSR_MCGCAP: *value = 0; return true;
	case MSR_MCGSTATUS: *value = 0; return true;
	case MSR_MISC_ENABLE: *value = 1; return true; /* fast strings */
	case MSR_MTRR_DEF: *value = v->msr_mtrr_def; return true;
	case MSR_GPAT: {
		struct vcpu_state s;
		vcpu_ops->get_state(v, &s);
		*value = s.pat;
		return true;
	}
	case MSR_TSCAUX: *value = v->msr_tsc_aux; return true;
	}
	return false;
}

static bool valid_pat(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

bool msr_guest_write(struct vcpu *v, uint32_t index, uint64_t value)
{
	int slot = mtrr_slot(index);

	if (slot >= 0) {
		v->msr_mtrr[slot] = value; /* kept for reads; EPT/NPT decide types */
		return true;
	}
	switch (index) {
	case MSR_TSC: {
		struct vcpu_state s;
		vcpu_ops->get_state(v, &s);
		s.tsc_offset = value - rdtsc();
		vcpu_ops->set_state(v, &s);
		return true;
	}
	case MSR_APICBASE:
		/* Relocating or disabling the APIC is not supported. */
		return (value & ~APICBASE_BSP) == (VLAPIC_BASE | APICBASE_ENABLE);
	case MSR_BIOS_SIGN:
	case MSR_MISC_ENABLE:
	case MSR_MCGSTATUS:
		return true;
	case MSR_MTRR_DEF:
		if (value & ~0xcffull)
			return false;
		v->msr_mtrr_def = value;
		return true;
	case MSR_GPAT: {
		if (!valid_pat(value))
			return false;
		struct vcpu_state s;
		vcpu_ops->get_state(v, &s);
		s.pat = value;
		vcpu_ops->set_state(v, &s);
		return true;
	}
	case MSR_TSCAUX:
		if (value >> 32)
			return false;
		v->msr_tsc_aux = value;
		return true;
	}
	return false;
}
