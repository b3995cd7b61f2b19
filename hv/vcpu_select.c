/* Picks the virtualization backend from CPUID, once, at boot. */
#include "hv/log.h"
#include "hv/svm/svm.h"
#include "hv/vcpu.h"
#include "hv/vmx/vmx.h"
#include "hv/x86/cpu_features.h"

const struct vcpu_ops *vcpu_ops;
static const char *reason = "backend not selected yet";

static const struct vcpu_ops *candidate(void)
{
	const struct cpu_features *f = cpu_features();

	if (f->svm) {
		if (f->svm_disabled_by_firmware)
			reason = "SVM is disabled by the firmware (VM_CR.SVMDIS)";
		else if (!f->npt)
			reason = "guests need nested paging (NPT), which this CPU lacks";
		else
			return &svm_ops;
	} else if (f->vmx) {
		if (f->vmx_locked_off)
			reason = "VMX is locked off by the firmware (IA32_FEATURE_CONTROL)";
		else if (!f->ept)
			reason = "guests need EPT (extended page tables), which this CPU lacks";
		else if (!f->ept_4level || !f->ept_wb || !f->ept_2m)
			reason = "guests need EPT with 4-level walks, write-back and 2 MiB pages; "
				 "this CPU's EPT lacks one";
		else if (!f->unrestricted_guest)
			reason = "guests start with paging off, which needs VMX unrestricted guest";
		else
			return &vmx_ops;
	} else {
		reason = "the CPU has neither AMD SVM nor Intel VMX";
	}
	return NULL;
}

void vcpu_select_backend(void)
{
	const struct vcpu_ops *ops = candidate();

	if (ops && ops->hw_enable() != 0) {
		reason = "enabling hardware virtualization failed";
		ops = NULL;
	}
	vcpu_ops = ops;
	if (ops) {
		reason = NULL;
		log_info("guest backend: %s", ops->name);
	} else {
		log_warn("guests unavailable: %s; the console still works", reason);
	}
}

void vcpu_hw_disable(void)
{
	if (vcpu_ops && vcpu_ops->hw_disable)
		vcpu_ops->hw_disable();
}

void vcpu_hw_reenable(void)
{
	if (vcpu_ops && vcpu_ops->hw_reenable)
		vcpu_ops->hw_reenable();
}

const char *vcpu_backend_name(void)
{
	return vcpu_ops ? vcpu_ops->name : "none";
}

const char *vcpu_unavailable_reason(void)
{
	return reason;
}
