#include "hv/x86/cpu_features.h"

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"


static struct cpu_features f;

const struct cpu_features *cpu_features(void)
{
	return &f;
}

static void read_identity(void)
{
	struct cpuid_regs r = cpuid(0, 0);

	memcpy(f.vendor_string, &r.ebx, 4);
	memcpy(f.vendor_string + 4, &r.edx, 4);
	memcpy(f.vendor_string + 8, &r.ecx, 4);
	if (!strcmp(f.vendor_string, "GenuineIntel"))
		f.vendor = CPU_VENDOR_INTEL;
	else if (!strcmp(f.vendor_string, "AuthenticAMD"))
		f.vendor = CPU_VENDOR_AMD;

	r = cpuid(1, 0);
	f.family = (r.eax >> 8) & 0xf;
	f.model = (r.eax >> 4) & 0xf;
	f.stepping = r.eax & 0xf;
	if (f.family == 0xf)
		f.family += (r.eax >> 20) & 0xff;
	if (f.family >= 6)
		f.model |= ((r.eax >> 16) & 0xf) << 4;
	f.hypervisor_bit = (r.ecx >> 31) & 1;
	f.x2apic = (r.ecx >> 21) & 1;
	f.xsave = (r.ecx >> 26) & 1;
	f.pcid = (r.ecx >> 17) & 1;
	f.mce = (r.edx >> 7) & 1;
	f.mca = (r.edx >> 14) & 1;

	if (cpuid(0, 0).eax >= 7) {
		r = cpuid(7, 0);
		f.ibpb = (r.edx >> 26) & 1;        /* Intel: IBRS and IBPB */
		f.md_clear = (r.edx >> 10) & 1;
		f.arch_capabilities = (r.edx >> 29) & 1;
	}
	uint32_t max_ext = cpuid(0x80000000, 0).eax;
	if (max_ext >= 0x80000008)
		f.ibpb |= (cpuid(0x80000008, 0).ebx >> 12) & 1; /* AMD: IBPB */
	if (max_ext >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		f.page_1g = (r.edx >> 26) & 1;
		f.nx = (r.edx >> 20) & 1;
		f.rdtscp = (r.edx >> 27) & 1;
	}
	if (max_ext >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i, 0);
			memcpy(f.brand + 16 * i, &r, 16);
		}
		/* Brand strings are often padded with leading spaces. */
		size_t lead = 0;
		while (f.brand[lead] == ' ')
			lead++;
		memmove(f.brand, f.brand + lead, sizeof(f.brand) - lead);
	}
	if (max_ext >= 0x80000007)
		f.invariant_tsc = (cpuid(0x80000007, 0).edx >> 8) & 1;
}

void cpu_features_init(void)
{
	memset(&f, 0, sizeof(f));
	read_identity();
	if (f.arch_capabilities && !rdmsr_safe(MSR_ARCH_CAPABILITIES, &f.arch_caps))
		f.arch_capabilities = false;
	if (f.mca) {
		f.mcg_cap = rdmsr(MSR_MCG_CAP);
		f.mca_banks = f.mcg_cap & 0xff;
	}
}
