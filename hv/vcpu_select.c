#include "hv/log.h"
#include "hv/vcpu.h"
#include "hv/x86/cpu_features.h"

static const char *backend = "none";
static const char *reason = "backend not selected yet";

void vcpu_select_backend(void)
{
	const struct cpu_features *f = cpu_features();

	if (f->svm) {
		if (f->svm_disabled_by_firmware)
			reason = "SVM is disabled by the firmware (VM_CR.SVMDIS)";
		else if (!f->npt)
			reason = "guests need nested paging (NPT), which this CPU lacks";
		else {
			backend = "svm";
			reason = NULL;
		}
	} else if (f->vmx) {
		if (f->vmx_locked_off)
			reason = "VMX is locked off by the firmware (IA32_FEATURE_CONTROL)";
		else if (!f->ept || !f->ept_4level || !f->ept_wb)
			reason = "guests need EPT (4-level, write-back), which this CPU lacks";
		else {
			backend = "vmx";
			reason = NULL;
		}
	} else {
		reason = "the CPU has neither AMD SVM nor Intel VMX";
	}
	if (reason)
		log_warn("guests unavailable: %s; the console still works", reason);
	else
		log_info("guest backend: %s", backend);
}

const char *vcpu_backend_name(void)
{
	return backend;
}

const char *vcpu_unavailable_reason(void)
{
	return reason;
}
