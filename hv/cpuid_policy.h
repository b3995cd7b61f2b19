/* What CPUID tells a guest: the host's answers with virtualization and
 * features the hypervisor does not virtualize hidden, the hypervisor bit
 * set, and the hypervisor's own leaves at 0x40000000. */
#ifndef HV_CPUID_POLICY_H
#define HV_CPUID_POLICY_H

#include <stdint.h>

#include "hv/x86/cpu.h"

#define HV_CPUID_BASE 0x40000000u
#define HV_CPUID_VENDOR "HvResearchV1" /* 12 characters */

/* Leaf 0x40000001: EAX TSC kHz, EBX local APIC timer kHz. */
struct cpuid_regs cpuid_guest(uint32_t leaf, uint32_t subleaf, uint32_t apic_id);

#endif
