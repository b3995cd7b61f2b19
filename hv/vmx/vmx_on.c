/* Turning VMX on for this CPU: the firmware's IA32_FEATURE_CONTROL (OVMF
 * leaves it unlocked at 0), the CR0/CR4 bits VMX operation requires, and
 * VMXON with a region stamped with the VMCS revision. */
#include "hv/core/log.h"
#include "hv/mm/mm.h"
#include "hv/vmx/vmx.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

static int allow_vmx_in_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCK)
		return (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? 0 : -1;
	/* Unlocked: enable VMX and lock, as firmware normally does. */
	return wrmsr_safe(MSR_FEATURE_CONTROL,
			  fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? 0 : -1;
}

static int vmxon(uint64_t region_pa);

static int vmxon(uint64_t region_pa)
{
	bool failed;

	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(failed) : "m"(region_pa) : "cc", "memory");
	return failed ? -1 : 0;
}

/* Each CPU's VMXON region, by CPU index. */
static uint64_t vmxon_region[CPU_MAX];

void vmx_hw_disable(void)
{
	vmx_clear_all_vmcs();
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	write_cr4(read_cr4() & ~CR4_VMXE);
}

void vmx_hw_reenable(void)
{
	write_cr4(read_cr4() | CR4_VMXE);
	if (vmxon(vmxon_region[this_cpu_index()]))
		log_err("vmx: VMXON failed after a failed reset");
}

/* VMX operation on the calling CPU; the capabilities were read already. */
const char *vmx_hw_enable_cpu(void)
{
	if (allow_vmx_in_feature_control())
		return "vmx: IA32_FEATURE_CONTROL forbids VMX";
	/* The host, too, must run with the fixed bits (CR0.NE, CR4.VMXE). */
	write_cr0(read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0));
	write_cr4(read_cr4() | rdmsr(MSR_VMX_CR4_FIXED0) | CR4_VMXE);

	uint64_t *region = &vmxon_region[this_cpu_index()];
	if (!*region)
		*region = page_alloc();
	if (!*region)
		return "vmx: out of memory for the VMXON region";
	*(uint32_t *)phys_to_virt(*region) = vmx_caps.revision;
	if (vmxon(*region))
		return "vmx: VMXON failed";
	return NULL;
}

int vmx_hw_enable(void)
{
	const char *why = vmx_caps_init();

	if (!why && vmx_msr_init())
		why = "out of memory";
	if (!why)
		why = vmx_hw_enable_cpu();
	if (why) {
		log_err("vmx: %s", why);
		return -1;
	}
	log_info("vmx: enabled, VMCS revision 0x%x, unrestricted guest %s, VPID %s, EPT A/D %s",
		 vmx_caps.revision, vmx_caps.unrestricted ? "yes" : "no",
		 vmx_caps.vpid ? "yes" : "no", vmx_caps.ept_ad ? "yes" : "no");
	return 0;
}
