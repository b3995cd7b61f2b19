#include "hv/x86/side_channel.h"

#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"
#include "hv/x86/percpu.h"

static struct side_channel_plan plan;
static uint64_t ibpbs;

void side_channel_init(void)
{
	plan = side_channel_plan(cpu_features());
}

const struct side_channel_plan *side_channel_current(void)
{
	return &plan;
}

void side_channel_switch_to(uint64_t vm_uid)
{
	struct percpu *cpu = this_cpu();

	/* Per CPU: the predictors to clear are this CPU's. */
	if (vm_uid == cpu->last_vm_uid)
		return;
	cpu->last_vm_uid = vm_uid;
	if (!plan.ibpb_between_vms)
		return;
	if (wrmsr_safe(MSR_PRED_CMD, 1)) {
		__atomic_fetch_add(&ibpbs, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Advertised but refused (an emulator's CPU model): say so rather
	 * than claim a barrier that is not there. */
	plan.ibpb_between_vms = false;
	plan.why_not_ibpb = "the CPU refused the IBPB write to PRED_CMD";
}

/* VERW with a valid writable data selector clears the buffers on CPUs
 * with MD_CLEAR; the selector is the hypervisor's own DS. */
void side_channel_before_entry(void)
{
	if (!plan.verw_before_entry)
		return;
	uint16_t ds;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	__asm__ volatile("verw %0" : : "m"(ds) : "cc");
}

uint64_t side_channel_ibpbs(void)
{
	return ibpbs;
}
