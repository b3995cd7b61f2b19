/* What CPUID tells a guest: the host's answers with virtualization and
 * features the hypervisor does not virtualize hidden, the hypervisor bit
 * set, the hypervisor's own leaves at 0x40000000 and KVM's clock leaves
 * at 0x40000100. */
#ifndef HV_VM_CPUID_POLICY_H
#define HV_VM_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"

#define HV_CPUID_BASE 0x40000000u
#define HV_CPUID_VENDOR "HvResearchV1" /* 12 characters */
/* KVM's leaves one block up (Linux scans 0x40000000-0x4000ff00 in steps of
 * 0x100 for them, as Hyper-V-compatible KVM places them): only the
 * paravirtual clock (hv/vm/kvmclock.h) and the no-op I/O delay. */
#define KVM_CPUID_BASE 0x40000100u
#define KVM_CPUID_SIGNATURE "KVMKVMKVM\0\0\0"
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)

/* Where the host's answers come from: the CPU, or a table in the tests. */
struct cpuid_host {
	struct cpuid_regs (*query)(const struct cpuid_host *host, uint32_t leaf, uint32_t sub);
	uint64_t tsc_hz; /* reported in leaf 0x40000001 */
};

/* The guest's answer for (leaf, subleaf), derived from the host's.
 * Leaf 0x40000001: EAX TSC kHz, EBX local APIC timer kHz. */
struct cpuid_regs cpuid_guest(const struct cpuid_host *host, uint32_t leaf, uint32_t subleaf,
			      uint32_t apic_id);

/* The physical-address width the guest is shown (leaf 0x80000008 EAX 7:0;
 * 36 without it). */
unsigned cpuid_guest_maxphyaddr(const struct cpuid_host *host);
/* Whether the guest is offered 1 GiB pages (leaf 0x80000001 EDX 26). */
bool cpuid_guest_gbpages(const struct cpuid_host *host);

/* The vendor the guest is shown (leaf 0): vendor-specific MSRs follow it. */
enum cpu_vendor cpuid_guest_vendor(const struct cpuid_host *host);

/* The running CPU's answers, with the TSC at tsc_hz. */
struct cpuid_host cpuid_host_of_cpu(uint64_t tsc_hz);

#endif
