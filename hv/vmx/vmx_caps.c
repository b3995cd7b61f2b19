/* Negotiates every VMCS control once, from the capability MSRs: the CPU
 * says which bits must be 1 and which may be 1; nothing is hard-coded. */
#include "hv/vmx/vmx.h"

#include "hv/core/log.h"
#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"

#define CAP_INVEPT_SINGLE (1ull << 25)
#define CAP_INVVPID_SINGLE (1ull << 41)

struct vmx_caps vmx_caps;

/* Reports a refused control field by name, for the boot log. */
static bool negotiate(const char *what, uint32_t msr, uint32_t want, uint32_t need, uint32_t *out)
{
	uint32_t refused = vmx_adjust_controls(rdmsr(msr), want, need, out);

	if (refused)
		log_warn("vmx: %s controls: the CPU refuses required bits 0x%x", what, refused);
	return refused == 0;
}

const char *vmx_caps_init(void)
{
	const struct vmx_features *f = &vmx_features;
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	uint64_t ept_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	struct vmx_caps *c = &vmx_caps;

	c->revision = (uint32_t)basic & 0x7fffffffu;
	c->inout_info = basic & VMX_BASIC_INOUT_INFO;
	c->unrestricted = f->unrestricted_guest;
	c->vpid = f->vpid && (ept_cap & CAP_INVVPID_SINGLE);
	c->invept_single = ept_cap & CAP_INVEPT_SINGLE;
	c->invvpid_single = c->vpid;
	c->ept_ad = f->ept_ad;

	uint32_t pin = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING;
	uint32_t proc = PROC_HLT_EXITING | PROC_USE_TSC_OFFSETTING | PROC_MWAIT_EXITING |
			PROC_MONITOR_EXITING | PROC_UNCONDITIONAL_IO_EXITING |
			PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_RDPMC_EXITING |
			PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS;
	uint32_t proc2_need = PROC2_ENABLE_EPT;
	uint32_t proc2 = proc2_need | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID |
			 (c->vpid ? PROC2_ENABLE_VPID : 0) |
			 (c->unrestricted ? PROC2_UNRESTRICTED_GUEST : 0);
	uint32_t exit_need = EXIT_HOST_ADDRESS_SPACE_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
			     EXIT_SAVE_EFER | EXIT_LOAD_EFER;
	uint32_t entry_need = ENTRY_LOAD_PAT | ENTRY_LOAD_EFER;

	if (!negotiate("pin-based", true_ctls ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS,
		       pin, pin, &c->pin) ||
	    !negotiate("processor-based",
		       true_ctls ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS,
		       proc | PROC_PAUSE_EXITING, proc, &c->proc) ||
	    !negotiate("secondary", MSR_VMX_PROCBASED_CTLS2, proc2, proc2_need, &c->proc2) ||
	    !negotiate("exit", true_ctls ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS,
		       exit_need | EXIT_SAVE_DEBUG_CONTROLS, exit_need, &c->exit) ||
	    !negotiate("entry", true_ctls ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS,
		       entry_need | ENTRY_LOAD_DEBUG_CONTROLS, entry_need, &c->entry))
		return "the CPU lacks VMX controls guests need (see the log)";
	/* Long mode is switched per vCPU, never by default. */
	c->entry &= ~ENTRY_IA32E_MODE_GUEST;
	c->unrestricted = c->proc2 & PROC2_UNRESTRICTED_GUEST;
	c->vpid = c->proc2 & PROC2_ENABLE_VPID;

	c->cr0 = (struct vmx_cr_rules){ rdmsr(MSR_VMX_CR0_FIXED0), rdmsr(MSR_VMX_CR0_FIXED1) };
	c->cr4 = (struct vmx_cr_rules){ rdmsr(MSR_VMX_CR4_FIXED0), rdmsr(MSR_VMX_CR4_FIXED1) };
	if (c->unrestricted)
		c->cr0.fixed0 &= ~(CR0_PE | CR0_PG);
	else
		return "guests start with paging off, which needs VMX unrestricted guest";
	return NULL;
}
