/* The MSRs a guest reaches: emulated here from their SDM/APM definitions;
 * everything else raises #GP, as on a CPU without the MSR. The backends
 * pass through only the MSRs the hardware keeps per guest (FS/GS bases,
 * the syscall and sysenter MSRs) and send every other access here. */
#include "hv/vm/msr_policy.h"

#include "hv/lib/string.h"
#include "hv/vdev/vlapic.h"
#include "hv/vm/cpuid_policy.h"
#include "hv/vm/kvmclock.h"
#include "hv/vm/vcpu.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"

#define MTRR_DEF_ENABLED_WB 0xc06ull
#define MTRR_DEF_VALID 0xcffull      /* type, FE, E; the rest is reserved */
#define MTRR_CAP_FIXED_WC 0x500ull   /* fixed ranges + WC, no variable ranges */
#define FEATURE_CONTROL_LOCKED_OFF 1ull
#define MISC_ENABLE_FAST_STRINGS 1ull
#define CPUID_E1_EDX_NX (1u << 20)
#define CPUID_E1_EDX_LM (1u << 29)
#define HWCR_TSC_FREQ_SEL (1ull << 24) /* the TSC counts at the P0 rate (read-only 1) */
#define INT_PENDING_C1E (3ull << 27)   /* C1eOnCmpHalt, SmiOnCmpHalt */
/* PerfEvtSel: bits 63:42, 39:36, 21 and 19 are reserved (APM vol. 2,
 * performance event-select registers); the counters are 48 bits wide. */

static int mtrr_slot(uint32_t index)
{
	if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST)
		return (int)(index - MSR_MTRR_PHYS_FIRST);
	if (index == MSR_MTRR_FIX64K_00000)
		return 16;
	if (index == MSR_MTRR_FIX16K_80000 || index == MSR_MTRR_FIX16K_A0000)
		return 17 + (int)(index - MSR_MTRR_FIX16K_80000);
	if (index >= MSR_MTRR_FIX4K_FIRST && index <= MSR_MTRR_FIX4K_LAST)
		return 19 + (int)(index - MSR_MTRR_FIX4K_FIRST);
	return -1;
}

static struct vcpu_state state_of(struct vcpu *v)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	return s;
}

static bool guest_is(const struct vcpu *v, enum cpu_vendor vendor)
{
	return cpuid_guest_vendor(&v->vm->cpuid) == vendor;
}

void msr_guest_init(struct vcpu *v)
{
	v->msr_mtrr_def = MTRR_DEF_ENABLED_WB;
	/* Power-on values, after a reset too. */
	memset(v->msr_mtrr, 0, sizeof(v->msr_mtrr));
	memset(v->msr_perf_sel, 0, sizeof(v->msr_perf_sel));
	memset(v->msr_perf_ctr, 0, sizeof(v->msr_perf_ctr));
}

uint64_t efer_guest_allowed(const struct cpuid_host *host)
{
	uint32_t e1 = cpuid_guest(host, 0x80000001u, 0, 0).edx;

	/* SCE is there on every CPU that has EFER; LME and NXE as CPUID says. */
	return EFER_SCE | (e1 & CPUID_E1_EDX_LM ? EFER_LME : 0) |
	       (e1 & CPUID_E1_EDX_NX ? EFER_NXE : 0);
}

enum msr_verdict efer_guest_write(uint64_t current, uint64_t value, uint64_t cr0,
				  uint64_t allowed, uint64_t *result)
{
	/* LMA is the CPU's to set: writes keep it as it is. */
	if (value & ~(allowed | EFER_LMA))
		return MSR_FAULT; /* reserved, or a feature the guest does not have */
	if (((value ^ current) & EFER_LME) && (cr0 & CR0_PG))
		return MSR_FAULT; /* LME cannot change while paging is on */
	*result = (value & allowed) | (current & EFER_LMA);
	return MSR_OK;
}

/* MSRs only one vendor's CPUs have, answered when the guest is shown
 * that vendor (CPUID leaf 0). The machine-check MSRs are absent: the guest
 * is offered no MCA (CPUID hides MCE and MCA), so they #GP as there. */
static bool vendor_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	if (guest_is(v, CPU_VENDOR_INTEL)) {
		switch (index) {
		case MSR_FEATURE_CONTROL: *value = FEATURE_CONTROL_LOCKED_OFF; return true;
		case MSR_MISC_ENABLE: *value = MISC_ENABLE_FAST_STRINGS; return true;
		}
	} else if (guest_is(v, CPU_VENDOR_AMD)) {
		switch (index) {
		case MSR_AMD_SYSCFG: *value = 0; return true; /* no TSEG, no fixed-range DRAM bits */
		case MSR_AMD_HWCR: *value = HWCR_TSC_FREQ_SEL; return true;
		/* No C1E: the hypervisor halts an idle vCPU, nothing else does. */
		case MSR_AMD_INT_PENDING_MSG: *value = 0; return true;
		}
		/* Every AMD64 CPU has the four legacy counters; these count
		 * nothing (CPUID hides the core extension's six). */
		if (index >= MSR_AMD_PERF_EVTSEL0 && index < MSR_AMD_PERF_CTR0) {
			*value = v->msr_perf_sel[index - MSR_AMD_PERF_EVTSEL0];
			return true;
		}
		if (index >= MSR_AMD_PERF_CTR0 && index < MSR_AMD_PERF_CTR0 + 4) {
			*value = v->msr_perf_ctr[index - MSR_AMD_PERF_CTR0];
			return true;
		}
	}
	return false;
}

static bool amd_perf_write(struct vcpu *v, uint32_t index, uint64_t value)
{
	if (index >= MSR_AMD_PERF_EVTSEL0 && index < MSR_AMD_PERF_CTR0) {
		if (value & AMD_PERF_SEL_RESERVED)
			return false;
		v->msr_perf_sel[index - MSR_AMD_PERF_EVTSEL0] = value;
		return true;
	}
	if (index >= MSR_AMD_PERF_CTR0 && index < MSR_AMD_PERF_CTR0 + 4) {
		v->msr_perf_ctr[index - MSR_AMD_PERF_CTR0] = value & AMD_PERF_CTR_MASK;
		return true;
	}
	return false;
}

static bool vendor_write(struct vcpu *v, uint32_t index, uint64_t value)
{
	if (guest_is(v, CPU_VENDOR_INTEL))
		return index == MSR_MISC_ENABLE; /* bits kept as they read */
	if (guest_is(v, CPU_VENDOR_AMD))
		return (index == MSR_AMD_SYSCFG && value == 0) ||
		       (index == MSR_AMD_HWCR && (value & HWCR_TSC_FREQ_SEL)) ||
		       (index == MSR_AMD_INT_PENDING_MSG && !(value & INT_PENDING_C1E)) ||
		       amd_perf_write(v, index, value);
	return false;
}

bool msr_guest_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	int slot = mtrr_slot(index);

	if (slot >= 0) {
		*value = v->msr_mtrr[slot];
		return true;
	}
	switch (index) {
	case MSR_TSC: *value = rdtsc() + state_of(v).tsc_offset; return true;
	case MSR_PLATFORM_ID: *value = 0; return true;
	case MSR_APIC_BASE: *value = vlapic_read_apic_base(&v->lapic); return true;
	case MSR_TSC_DEADLINE:
		*value = vlapic_read_tsc_deadline(&v->lapic, rdtsc());
		return true;
	case MSR_BIOS_SIGN_ID: *value = 0; return true;
	case MSR_MTRR_CAP: *value = MTRR_CAP_FIXED_WC; return true;
	case MSR_MTRR_DEF_TYPE: *value = v->msr_mtrr_def; return true;
	case MSR_PAT: *value = state_of(v).pat; return true;
	case MSR_EFER: *value = state_of(v).efer; return true;
	case MSR_TSC_AUX: *value = v->msr_tsc_aux; return true;
	}
	if (kvmclock_msr_read(v, index, value) || msr_address_read(v, index, value))
		return true;
	return vendor_read(v, index, value);
}

bool pmc_guest_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	/* Intel: CPUID leaf 0Ah offers no counters. */
	if (!guest_is(v, CPU_VENDOR_AMD) || index >= 4)
		return false;
	*value = v->msr_perf_ctr[index];
	return true;
}

/* UC, WC, WT, WP, WB: the others are reserved (SDM vol. 3 §12.11). */
static bool valid_mtrr_type(uint8_t type)
{
	return type == 0 || type == 1 || (type >= 4 && type <= 6);
}

/* Slots 0-15 are the variable ranges' PHYSBASE (even: type in bits 7:0)
 * and PHYSMASK (odd: no type); the fixed ranges hold a type per byte. */
static bool valid_mtrr_value(int slot, uint64_t value)
{
	if (slot < 16)
		return (slot & 1) || valid_mtrr_type((uint8_t)value);
	for (int i = 0; i < 8; i++)
		if (!valid_mtrr_type((uint8_t)(value >> (8 * i))))
			return false;
	return true;
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

static bool write_efer(struct vcpu *v, uint64_t value)
{
	struct vcpu_state s = state_of(v);
	uint64_t allowed = efer_guest_allowed(&v->vm->cpuid);

	if (efer_guest_write(s.efer, value, s.cr0, allowed, &s.efer) != MSR_OK)
		return false;
	vcpu_ops->set_state(v, &s);
	return true;
}

bool msr_guest_write(struct vcpu *v, uint32_t index, uint64_t value)
{
	bool handled;
	bool ok = msr_address_write(v, index, value, &handled);

	if (handled)
		return ok;

	int slot = mtrr_slot(index);

	if (slot >= 0) {
		if (!valid_mtrr_value(slot, value))
			return false;
		v->msr_mtrr[slot] = value; /* kept for reads; EPT/NPT decide types */
		return true;
	}
	switch (index) {
	case MSR_TSC: {
		struct vcpu_state s = state_of(v);
		uint64_t now = rdtsc(), old_offset = s.tsc_offset;
		s.tsc_offset = value - now;
		vcpu_ops->set_state(v, &s);
		vlapic_set_tsc_offset(&v->lapic, s.tsc_offset, now); /* deadlines move with it */
		kvmclock_tsc_changed(v, old_offset);
		return true;
	}
	case MSR_APIC_BASE:
		return vlapic_write_apic_base(&v->lapic, value,
					      cpuid_guest_maxphyaddr(&v->vm->cpuid));
	case MSR_TSC_DEADLINE:
		vlapic_write_tsc_deadline(&v->lapic, value, rdtsc());
		return true;
	case MSR_BIOS_SIGN_ID:
		return true;
	case MSR_MTRR_DEF_TYPE:
		if ((value & ~MTRR_DEF_VALID) || !valid_mtrr_type((uint8_t)value))
			return false;
		v->msr_mtrr_def = value;
		return true;
	case MSR_PAT: {
		if (!valid_pat(value))
			return false;
		struct vcpu_state s = state_of(v);
		s.pat = value;
		vcpu_ops->set_state(v, &s);
		return true;
	}
	case MSR_EFER:
		return write_efer(v, value);
	case MSR_TSC_AUX:
		if (value >> 32)
			return false;
		v->msr_tsc_aux = value;
		return true;
	}
	if (kvmclock_msr_write(v, index, value))
		return true;
	return vendor_write(v, index, value);
}
