/* What the CPU's SVM offers (CPUID 8000_0001h and 8000_000Ah, VM_CR), and
 * whether guests can run on it: they need nested paging. */
#include "hv/svm/svm.h"

#include "hv/x86/cpu.h"

struct svm_caps svm_caps;

static void read_caps(struct svm_caps *c)
{
	uint64_t vm_cr;
	uint32_t max_ext = cpuid(0x80000000u, 0).eax;

	*c = (struct svm_caps){ 0 };
	if (max_ext < 0x80000001u || !((cpuid(0x80000001u, 0).ecx >> 2) & 1))
		return;
	c->present = true;
	if (rdmsr_safe(MSR_VM_CR, &vm_cr))
		c->disabled_by_firmware = vm_cr & VM_CR_SVMDIS;
	if (max_ext < 0x8000000au)
		return;
	struct cpuid_regs r = cpuid(0x8000000au, 0);
	c->revision = r.eax & 0xff;
	c->asids = r.ebx;
	c->npt = r.edx & 1;
	c->lbr_virt = (r.edx >> 1) & 1;
	c->nrips = (r.edx >> 3) & 1;
	c->flush_by_asid = (r.edx >> 6) & 1;
	c->decode_assists = (r.edx >> 7) & 1;
	c->vgif = (r.edx >> 16) & 1;
}

enum vcpu_probe svm_probe(const char **reason)
{
	read_caps(&svm_caps);
	if (!svm_caps.present)
		return VCPU_PROBE_ABSENT;
	if (svm_caps.disabled_by_firmware)
		*reason = "SVM is disabled by the firmware (VM_CR.SVMDIS)";
	else if (!svm_caps.npt)
		*reason = "guests need nested paging (NPT), which this CPU lacks";
	else
		return VCPU_PROBE_USABLE;
	return VCPU_PROBE_UNUSABLE;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

void svm_describe(vcpu_print_fn print, void *ctx)
{
	const struct svm_caps *c = &svm_caps;

	print(ctx, "svm: %s%s\n", yn(c->present),
	      c->disabled_by_firmware ? " (disabled by firmware)" : "");
	if (c->present)
		print(ctx, "svm_features: npt=%s nrips=%s decode_assists=%s vgif=%s "
			   "flush_by_asid=%s asids=%u rev=%u\n",
		      yn(c->npt), yn(c->nrips), yn(c->decode_assists), yn(c->vgif),
		      yn(c->flush_by_asid), c->asids, c->revision);
}
