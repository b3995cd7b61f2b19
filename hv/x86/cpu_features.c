#include "hv/x86/cpu_features.h"

#include "hv/lib/string.h"
#include "hv/x86/cpu.h"

#define MSR_VM_CR 0xc0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VMX_BASIC 0x480u
#define MSR_VMX_PROCBASED_CTLS 0x482u
#define MSR_VMX_PROCBASED_CTLS2 0x48bu
#define MSR_VMX_EPT_VPID_CAP 0x48cu
#define FEATURE_CONTROL_LOCK 1ull
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

static struct cpu_features f;

const struct cpu_features *cpu_features(void)
{
	return &f;
}

const char *cpu_vendor_name(enum cpu_vendor v)
{
	return v == CPU_VENDOR_INTEL ? "intel" : v == CPU_VENDOR_AMD ? "amd" : "other";
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
	f.vmx = (r.ecx >> 5) & 1;
	f.x2apic = (r.ecx >> 21) & 1;
	f.xsave = (r.ecx >> 26) & 1;
	f.pcid = (r.ecx >> 17) & 1;
	f.mce = (r.edx >> 7) & 1;
	f.mca = (r.edx >> 14) & 1;

	uint32_t max_ext = cpuid(0x80000000, 0).eax;
	if (max_ext >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		f.svm = (r.ecx >> 2) & 1;
		f.page_1g = (r.edx >> 26) & 1;
		f.nx = (r.edx >> 20) & 1;
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

static void read_svm(void)
{
	uint64_t vm_cr;

	if (!f.svm || cpuid(0x80000000, 0).eax < 0x8000000a)
		return;
	struct cpuid_regs r = cpuid(0x8000000a, 0);
	f.svm_revision = r.eax & 0xff;
	f.svm_asids = r.ebx;
	f.npt = r.edx & 1;
	f.lbr_virt = (r.edx >> 1) & 1;
	f.nrips = (r.edx >> 3) & 1;
	f.flush_by_asid = (r.edx >> 6) & 1;
	f.decode_assists = (r.edx >> 7) & 1;
	f.vgif = (r.edx >> 16) & 1;
	if (rdmsr_safe(MSR_VM_CR, &vm_cr))
		f.svm_disabled_by_firmware = vm_cr & VM_CR_SVMDIS;
}

static void read_vmx(void)
{
	uint64_t fc = 0, ctls = 0, ctls2 = 0;

	if (!f.vmx)
		return;
	if (rdmsr_safe(MSR_FEATURE_CONTROL, &fc) && (fc & FEATURE_CONTROL_LOCK) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		f.vmx_locked_off = true;
	rdmsr_safe(MSR_VMX_BASIC, &f.vmx_basic);
	if (!rdmsr_safe(MSR_VMX_PROCBASED_CTLS, &ctls) || !((ctls >> 63) & 1))
		return; /* no secondary controls */
	if (!rdmsr_safe(MSR_VMX_PROCBASED_CTLS2, &ctls2))
		return;
	uint32_t allowed1 = (uint32_t)(ctls2 >> 32);
	f.ept = (allowed1 >> 1) & 1;
	f.vpid = (allowed1 >> 5) & 1;
	f.unrestricted_guest = (allowed1 >> 7) & 1;
	f.pml = (allowed1 >> 17) & 1;
	if (f.ept || f.vpid)
		rdmsr_safe(MSR_VMX_EPT_VPID_CAP, &f.vmx_ept_vpid_cap);
	uint64_t cap = f.vmx_ept_vpid_cap;
	f.ept_4level = (cap >> 6) & 1;
	f.ept_wb = (cap >> 14) & 1;
	f.ept_2m = (cap >> 16) & 1;
	f.ept_1g = (cap >> 17) & 1;
	f.ept_ad = (cap >> 21) & 1;
	f.pml = f.pml && f.ept_ad; /* PML logs through the EPT dirty bits */
}

void cpu_features_init(void)
{
	memset(&f, 0, sizeof(f));
	read_identity();
	read_svm();
	read_vmx();
	if (f.mca) {
		f.mcg_cap = rdmsr(MSR_MCG_CAP);
		f.mca_banks = f.mcg_cap & 0xff;
	}
}
