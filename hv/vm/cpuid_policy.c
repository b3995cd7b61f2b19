#include "hv/vm/cpuid_policy.h"

#include "hv/lib/string.h"
#include "hv/vdev/vlapic.h"

#define MAX_BASIC 0x7u
#define MAX_EXTENDED 0x80000008u

/* Leaf 1 ECX: keep SSE3..SSE4.2, PCLMUL, SSSE3, FMA-less basics, CX16,
 * MOVBE, POPCNT, AES, RDRAND, F16C-less; drop VMX, SMX, monitor, x2APIC,
 * XSAVE/OSXSAVE/AVX (no XSAVE state management yet), PDCM and the
 * thermal/debug-store bits. TSC-deadline is the virtual APIC's own. */
#define L1_ECX_KEEP (1u << 0 | 1u << 1 | 1u << 9 | 1u << 13 | 1u << 19 | 1u << 20 | \
		     1u << 22 | 1u << 23 | 1u << 25 | 1u << 30)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_ECX_TSC_DEADLINE (1u << 24) /* the virtual local APIC has it, whatever the host */
/* Leaf 1 EDX: everything but MCE/MCA (no virtual banks), ACPI thermal,
 * debug store, TM and PBE. */
#define L1_EDX_DROP (1u << 7 | 1u << 14 | 1u << 21 | 1u << 22 | 1u << 29 | 1u << 31)
/* Leaf 7 EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, INVPCID, RDSEED, ADX,
 * SMAP, CLFLUSHOPT, SHA. */
#define L7_EBX_KEEP (1u << 0 | 1u << 3 | 1u << 7 | 1u << 8 | 1u << 9 | 1u << 10 | \
		     1u << 18 | 1u << 19 | 1u << 20 | 1u << 23 | 1u << 29)
/* 0x80000001 ECX: LAHF, ABM/LZCNT, SSE4A, misaligned SSE, 3DNow prefetch;
 * no SVM, SKINIT, IBS, topology extensions or perf counters. */
#define E1_ECX_KEEP (1u << 0 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8)
/* 0x80000001 EDX: FFXSR would make EFER.FFXSR writable, which the EFER
 * policy does not offer. */
#define E1_EDX_DROP (1u << 25)
#define E1_EDX_PAGE1GB (1u << 26)
/* What a CPU without leaf 0x80000008 has (Intel SDM vol. 3 §4.1.4). */
#define DEFAULT_MAXPHYADDR 36
/* 0x80000008 EBX: CLZERO, RstrFpErrPtrs, WBNOINVD; none of the speculation
 * controls (their MSRs are not offered) or counters with MSRs behind them. */
#define E7_EDX_INVARIANT_TSC (1u << 8)
#define E8_EBX_KEEP (1u << 0 | 1u << 2 | 1u << 9)

struct cpuid_regs cpuid_guest(const struct cpuid_host *host, uint32_t leaf, uint32_t sub,
			      uint32_t apic_id)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf >= HV_CPUID_BASE && leaf < HV_CPUID_BASE + 0x100) {
		if (leaf == HV_CPUID_BASE) {
			r.eax = HV_CPUID_BASE + 1;
			memcpy(&r.ebx, HV_CPUID_VENDOR, 4);
			memcpy(&r.ecx, HV_CPUID_VENDOR + 4, 4);
			memcpy(&r.edx, HV_CPUID_VENDOR + 8, 4);
		} else if (leaf == HV_CPUID_BASE + 1) {
			r.eax = (uint32_t)(host->tsc_hz / 1000);
			r.ebx = (uint32_t)(VLAPIC_BUS_HZ / 1000);
		}
		return r;
	}
	if (leaf >= KVM_CPUID_BASE && leaf < KVM_CPUID_BASE + 0x100) {
		if (leaf == KVM_CPUID_BASE) {
			r.eax = KVM_CPUID_BASE + 1;
			memcpy(&r.ebx, KVM_CPUID_SIGNATURE, 4);
			memcpy(&r.ecx, KVM_CPUID_SIGNATURE + 4, 4);
			memcpy(&r.edx, KVM_CPUID_SIGNATURE + 8, 4);
		} else if (leaf == KVM_CPUID_BASE + 1) {
			r.eax = KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_NOP_IO_DELAY |
				KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
		}
		return r;
	}
	bool extended = leaf >= 0x80000000u;
	uint32_t host_max = host->query(host, extended ? 0x80000000u : 0, 0).eax;
	uint32_t max = extended ? (host_max < MAX_EXTENDED ? host_max : MAX_EXTENDED) :
				  (host_max < MAX_BASIC ? host_max : MAX_BASIC);
	if (leaf > max)
		return r;
	r = host->query(host, leaf, sub);

	switch (leaf) {
	case 0:
	case 0x80000000u:
		r.eax = max;
		break;
	case 1:
		r.ebx = (r.ebx & 0x0000ffffu) | (1u << 16) | (apic_id << 24);
		r.ecx = (r.ecx & L1_ECX_KEEP) | L1_ECX_HYPERVISOR | L1_ECX_TSC_DEADLINE;
		r.edx &= ~L1_EDX_DROP;
		break;
	case 2:
		break; /* cache descriptors: harmless */
	case 4:
		r.eax &= 0x03ffffffu; /* one core per package */
		break;
	case 7:
		/* Subleaf 0 reports no others (EAX = 0), so they read as zero:
		 * subleaf 1's EAX lists AVX-VNNI and the like. */
		if (sub != 0)
			return (struct cpuid_regs){ 0, 0, 0, 0 };
		r.eax = 0;
		r.ebx &= L7_EBX_KEEP;
		r.ecx = r.edx = 0;
		break;
	case 0x80000001u:
		r.ecx &= E1_ECX_KEEP;
		r.edx &= ~E1_EDX_DROP;
		break;
	case 0x80000002u: case 0x80000003u: case 0x80000004u:
	case 0x80000005u: case 0x80000006u:
		break;
	case 0x80000007u:
		/* No invariant TSC: the guest's TSC keeps its rate across a
		 * migration only through kvmclock, which Linux prefers to the
		 * TSC only when the TSC is not invariant. */
		r.edx &= ~E7_EDX_INVARIANT_TSC;
		break;
	case 0x80000008u:
		r.ebx &= E8_EBX_KEEP;
		r.ecx = 0; /* one core */
		break;
	default:
		r = (struct cpuid_regs){ 0, 0, 0, 0 }; /* power, perfmon, topology... */
	}
	return r;
}

unsigned cpuid_guest_maxphyaddr(const struct cpuid_host *host)
{
	if (cpuid_guest(host, 0x80000000u, 0, 0).eax < 0x80000008u)
		return DEFAULT_MAXPHYADDR;
	unsigned bits = cpuid_guest(host, 0x80000008u, 0, 0).eax & 0xff;
	return bits ? bits : DEFAULT_MAXPHYADDR;
}

bool cpuid_guest_gbpages(const struct cpuid_host *host)
{
	return cpuid_guest(host, 0x80000000u, 0, 0).eax >= 0x80000001u &&
	       (cpuid_guest(host, 0x80000001u, 0, 0).edx & E1_EDX_PAGE1GB);
}

static struct cpuid_regs ask_cpu(const struct cpuid_host *host, uint32_t leaf, uint32_t sub)
{
	(void)host;
	return cpuid(leaf, sub);
}

struct cpuid_host cpuid_host_of_cpu(uint64_t tsc_hz)
{
	return (struct cpuid_host){ ask_cpu, tsc_hz };
}

enum cpu_vendor cpuid_guest_vendor(const struct cpuid_host *host)
{
	struct cpuid_regs r = host->query(host, 0, 0);
	char v[12];

	memcpy(v, &r.ebx, 4);
	memcpy(v + 4, &r.edx, 4);
	memcpy(v + 8, &r.ecx, 4);
	if (!memcmp(v, "GenuineIntel", 12))
		return CPU_VENDOR_INTEL;
	return !memcmp(v, "AuthenticAMD", 12) ? CPU_VENDOR_AMD : CPU_VENDOR_OTHER;
}
