/* What the hypervisor does between VMs against speculative side channels,
 * decided once from the CPU's features (host-testable; side_channel.c
 * applies it). Policy: another VM's vCPU never runs on a CPU whose branch
 * predictors the previous VM trained without an IBPB in between; and CPU
 * buffers (MDS) are cleared with VERW before every VM entry where the CPU
 * both needs it (ARCH_CAPABILITIES.MDS_NO clear) and can (MD_CLEAR). */
#ifndef HV_X86_SIDE_CHANNEL_POLICY_H
#define HV_X86_SIDE_CHANNEL_POLICY_H

#include <stdbool.h>

#include "hv/x86/cpu_features.h"

#define ARCH_CAP_MDS_NO (1ull << 5)

struct side_channel_plan {
	bool ibpb_between_vms;
	bool verw_before_entry;
	const char *why_not_ibpb;  /* NULL when it is done */
	const char *why_not_verw;
};

struct side_channel_plan side_channel_plan(const struct cpu_features *f);

#endif
