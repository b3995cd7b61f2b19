/* What the CPU's VMX offers (CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL and the
 * capability MSRs), and whether guests can run on it: they need EPT with
 * 4-level walks, write-back and 2 MiB pages, and unrestricted guest (they
 * start with paging off). Controls are negotiated later (vmx_caps.c). */
#include "hv/vmx/vmx.h"

#include "hv/x86/cpu.h"

#define PROCBASED_SECONDARY (1ull << 63) /* allowed-1 half of PROCBASED_CTLS */

struct vmx_features vmx_features;

static void read_ept(struct vmx_features *f, uint32_t proc2_allowed1)
{
	f->ept = (proc2_allowed1 >> 1) & 1;
	f->vpid = (proc2_allowed1 >> 5) & 1;
	f->unrestricted_guest = (proc2_allowed1 >> 7) & 1;
	f->pml = (proc2_allowed1 >> 17) & 1;
	if (f->ept || f->vpid)
		rdmsr_safe(MSR_VMX_EPT_VPID_CAP, &f->ept_vpid_cap);
	uint64_t cap = f->ept_vpid_cap;
	f->ept_4level = (cap >> 6) & 1;
	f->ept_wb = (cap >> 14) & 1;
	f->ept_2m = (cap >> 16) & 1;
	f->ept_1g = (cap >> 17) & 1;
	f->ept_ad = (cap >> 21) & 1;
	f->pml = f->pml && f->ept_ad; /* PML logs through the EPT dirty bits */
}

static void read_features(struct vmx_features *f)
{
	uint64_t fc = 0, ctls = 0, ctls2 = 0;

	*f = (struct vmx_features){ 0 };
	if (!((cpuid(1, 0).ecx >> 5) & 1))
		return;
	f->present = true;
	if (rdmsr_safe(MSR_FEATURE_CONTROL, &fc) && (fc & FEATURE_CONTROL_LOCK) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		f->locked_off = true;
	rdmsr_safe(MSR_VMX_BASIC, &f->basic);
	if (!rdmsr_safe(MSR_VMX_PROCBASED_CTLS, &ctls) || !(ctls & PROCBASED_SECONDARY))
		return;
	if (rdmsr_safe(MSR_VMX_PROCBASED_CTLS2, &ctls2))
		read_ept(f, (uint32_t)(ctls2 >> 32));
}

enum vcpu_probe vmx_probe(const char **reason)
{
	const struct vmx_features *f = &vmx_features;

	read_features(&vmx_features);
	if (!f->present)
		return VCPU_PROBE_ABSENT;
	if (f->locked_off)
		*reason = "VMX is locked off by the firmware (IA32_FEATURE_CONTROL)";
	else if (!f->ept)
		*reason = "guests need EPT (extended page tables), which this CPU lacks";
	else if (!f->ept_4level || !f->ept_wb || !f->ept_2m)
		*reason = "guests need EPT with 4-level walks, write-back and 2 MiB pages; "
			  "this CPU's EPT lacks one";
	else if (!f->unrestricted_guest)
		*reason = "guests start with paging off, which needs VMX unrestricted guest";
	else
		return VCPU_PROBE_USABLE;
	return VCPU_PROBE_UNUSABLE;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

void vmx_describe(vcpu_print_fn print, void *ctx)
{
	const struct vmx_features *f = &vmx_features;

	print(ctx, "vmx: %s%s\n", yn(f->present), f->locked_off ? " (locked off by firmware)" : "");
	if (f->present)
		print(ctx, "vmx_features: ept=%s ept_ad=%s pml=%s unrestricted_guest=%s "
			   "vpid=%s ept_2m=%s ept_1g=%s\n",
		      yn(f->ept), yn(f->ept_ad), yn(f->pml), yn(f->unrestricted_guest),
		      yn(f->vpid), yn(f->ept_2m), yn(f->ept_1g));
}
