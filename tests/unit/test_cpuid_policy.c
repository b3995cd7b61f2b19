/* What CPUID tells a guest, over fake hosts: an Intel Coffee Lake and an
 * AMD Zen 2 leaf set (values as those CPUs report them), and a small host
 * whose maximum leaves are below the policy's clamps. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/cpuid_policy.h"

struct fake_leaf {
	uint32_t leaf, sub;
	struct cpuid_regs r;
};

struct fake_host {
	struct cpuid_host host; /* first: query() gets back to the table */
	const struct fake_leaf *leaves;
	size_t n;
	unsigned queries;
};

/* Leaves the table lacks read as zero (a real CPU repeats its highest
 * basic leaf; the policy must not ask for those anyway). */
static struct cpuid_regs fake_query(const struct cpuid_host *host, uint32_t leaf, uint32_t sub)
{
	struct fake_host *f = (struct fake_host *)host;

	f->queries++;
	for (size_t i = 0; i < f->n; i++)
		if (f->leaves[i].leaf == leaf && f->leaves[i].sub == sub)
			return f->leaves[i].r;
	return (struct cpuid_regs){ 0, 0, 0, 0 };
}

#define FAKE(table, hz) { { fake_query, hz }, table, sizeof(table) / sizeof(table[0]), 0 }

/* "GenuineIntel" / "AuthenticAMD" as EBX, EDX, ECX. */
#define GENU 0x756e6547u
#define INEI 0x49656e69u
#define NTEL 0x6c65746eu
#define AUTH 0x68747541u
#define ENTI 0x69746e65u
#define CAMD 0x444d4163u

static const struct fake_leaf intel_leaves[] = {
	{ 0, 0, { 0x16, GENU, NTEL, INEI } },
	{ 1, 0, { 0x000906ea, 0x05100800, 0x7ffafbff, 0xbfebfbff } },
	{ 2, 0, { 0x00feff01, 0x000000f0, 0, 0 } },
	{ 3, 0, { 1, 2, 3, 4 } },
	{ 4, 0, { 0x1c004121, 0x01c0003f, 0x0000003f, 0 } },
	{ 5, 0, { 0x40, 0x40, 3, 0x00142120 } },        /* MONITOR/MWAIT */
	{ 6, 0, { 0x000027f7, 2, 9, 0 } },              /* thermal and power */
	{ 7, 0, { 0, 0x029c6fbf, 0x40000000, 0xbc002e00 } },
	{ 7, 1, { 0x00000030, 0, 0, 0 } },              /* AVX-VNNI, AVX512-BF16 */
	{ 0xb, 0, { 1, 2, 0x100, 5 } },                 /* topology */
	{ 0xd, 0, { 0x1f, 0x440, 0x440, 0 } },          /* XSAVE */
	{ 0x16, 0, { 3200, 4600, 100, 0 } },
	{ 0x80000000u, 0, { 0x80000008u, 0, 0, 0 } },
	{ 0x80000001u, 0, { 0, 0, 0x00000121, 0x2c100800 } },
	{ 0x80000002u, 0, { 0x65746e49, 0x2952286c, 0x726f4320, 0x4d542865 } },
	{ 0x80000006u, 0, { 0, 0, 0x01006040, 0 } },
	{ 0x80000007u, 0, { 0, 0, 0, 0x100 } },        /* invariant TSC */
	{ 0x80000008u, 0, { 0x00003027, 0, 0, 0 } },
};

static const struct fake_leaf amd_leaves[] = {
	{ 0, 0, { 0x10, AUTH, CAMD, ENTI } },
	{ 1, 0, { 0x00830f10, 0x0c400800, 0x7ed8320b, 0x178bfbff } },
	{ 7, 0, { 0, 0x219c91a9, 0x00400004, 0 } },
	{ 0xd, 0, { 0x207, 0x340, 0x380, 0 } },
	{ 0x80000000u, 0, { 0x80000020u, AUTH, CAMD, ENTI } },
	{ 0x80000001u, 0, { 0x00830f10, 0x40000000, 0x75c237ff, 0x2fd3fbff } },
	{ 0x80000005u, 0, { 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140 } },
	{ 0x80000008u, 0, { 0x00003030, 0x010eb757, 0x0000703f, 0x00010000 } },
	{ 0x8000000au, 0, { 1, 0x8000, 0, 0x0013bcff } }, /* SVM features */
	{ 0x8000001fu, 0, { 0x0001000f, 0x0000016f, 0x1fd, 1 } },
};

/* A host that stops below the clamps: basic leaves to 5, extended to
 * 0x80000004. */
static const struct fake_leaf small_leaves[] = {
	{ 0, 0, { 5, GENU, NTEL, INEI } },
	{ 1, 0, { 0x000006f6, 0x00010800, 0x0000e3bd, 0xbfebfbff } },
	{ 5, 0, { 0x40, 0x40, 3, 0x20 } },
	{ 7, 0, { 0, 0xffffffff, 0, 0 } }, /* beyond its own maximum */
	{ 0x80000000u, 0, { 0x80000004u, 0, 0, 0 } },
	{ 0x80000001u, 0, { 0, 0, 1, 0x20100800 } },
	{ 0x80000008u, 0, { 0x3024, 0, 0, 0 } },
};

static struct fake_host intel = FAKE(intel_leaves, 3192000000ull);
static struct fake_host amd = FAKE(amd_leaves, 2894563000ull);
static struct fake_host small = FAKE(small_leaves, 1000000000ull);

static struct cpuid_regs ask(struct fake_host *f, uint32_t leaf, uint32_t sub)
{
	return cpuid_guest(&f->host, leaf, sub, 0);
}

static void assert_regs(struct cpuid_regs r, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
			const char *what)
{
	cr_assert(r.eax == a && r.ebx == b && r.ecx == c && r.edx == d,
		  "%s: %08x %08x %08x %08x, expected %08x %08x %08x %08x", what, r.eax, r.ebx,
		  r.ecx, r.edx, a, b, c, d);
}

static void assert_zero(struct fake_host *f, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = ask(f, leaf, sub);

	cr_assert(!r.eax && !r.ebx && !r.ecx && !r.edx, "leaf 0x%x.%u: %08x %08x %08x %08x", leaf,
		  sub, r.eax, r.ebx, r.ecx, r.edx);
}

#define L1_ECX_VMX (1u << 5)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_MCE (1u << 7)
#define L1_EDX_MCA (1u << 14)
#define E1_ECX_SVM (1u << 2)

Test(cpuid_policy, leaf_1_sets_the_hypervisor_bit_and_hides_what_is_not_virtualized)
{
	struct fake_host *hosts[] = { &intel, &amd, &small };

	for (size_t i = 0; i < 3; i++) {
		struct cpuid_regs host = fake_query(&hosts[i]->host, 1, 0);
		struct cpuid_regs r = ask(hosts[i], 1, 0);
		cr_assert(r.ecx & L1_ECX_HYPERVISOR, "host %zu", i);
		cr_assert_eq(r.ecx & (L1_ECX_VMX | L1_ECX_X2APIC | L1_ECX_XSAVE | L1_ECX_OSXSAVE |
				      L1_ECX_AVX), 0, "host %zu: ecx %08x", i, r.ecx);
		cr_assert_eq(r.edx & (L1_EDX_MCE | L1_EDX_MCA), 0, "host %zu: edx %08x", i, r.edx);
		cr_assert_eq(r.eax, host.eax, "family/model/stepping as the host's");
	}
	/* Kept in ECX: SSE3, PCLMUL, SSSE3, CX16, SSE4.1/4.2, MOVBE, POPCNT,
	 * AES, RDRAND; both hosts have them all. TSC-deadline (bit 24) is set
	 * whatever the host says: the virtual APIC has it. EDX loses MCE, MCA,
	 * DS, ACPI, TM, PBE. */
	assert_regs(ask(&intel, 1, 0), 0x000906ea, 0x00010800, 0xc3d82203, 0x1f8bbb7f, "intel");
	assert_regs(ask(&amd, 1, 0), 0x00830f10, 0x00010800, 0xc3d82203, 0x178bbb7f, "amd");
	/* The small host lacks MOVBE, POPCNT, AES, RDRAND... and has VMX. */
	assert_regs(ask(&small, 1, 0), 0x000006f6, 0x00010800, 0x81002201, 0x1f8bbb7f, "small");
}

Test(cpuid_policy, the_apic_id_is_in_leaf_1_ebx)
{
	cr_assert_eq(cpuid_guest(&intel.host, 1, 0, 3).ebx, 0x03010800,
		     "APIC id 3, one logical CPU, host's CLFLUSH size");
	cr_assert_eq(cpuid_guest(&amd.host, 1, 0, 0xfe).ebx, 0xfe010800);
	cr_assert_eq(cpuid_guest(&amd.host, 1, 0, 0).ebx >> 24, 0, "not the host's APIC id 12");
}

Test(cpuid_policy, svm_is_hidden_in_the_extended_leaves)
{
	struct cpuid_regs r = ask(&amd, 0x80000001u, 0);

	cr_assert_eq(r.ecx & E1_ECX_SVM, 0);
	/* LAHF, ABM, SSE4A, misaligned SSE, 3DNow prefetch; EDX (LM, NX,
	 * RDTSCP, 1 GiB pages...) as the host's but FFXSR (bit 25), which
	 * EFER does not offer. */
	assert_regs(r, 0x00830f10, 0x40000000, 0x000001e1, 0x2dd3fbff, "amd 0x80000001");
	assert_regs(ask(&intel, 0x80000001u, 0), 0, 0, 0x121, 0x2c100800, "intel 0x80000001");
	assert_zero(&amd, 0x8000000au, 0); /* the SVM feature leaf is past the clamp */
}

Test(cpuid_policy, maximum_leaves_are_clamped_and_leaves_past_them_read_zero)
{
	assert_regs(ask(&intel, 0, 0), 7, GENU, NTEL, INEI, "intel leaf 0: max 0x16 -> 7");
	assert_regs(ask(&amd, 0, 0), 7, AUTH, CAMD, ENTI, "amd leaf 0: max 0x10 -> 7");
	assert_regs(ask(&amd, 0x80000000u, 0), 0x80000008u, AUTH, CAMD, ENTI, "amd 0x80000000");
	assert_regs(ask(&intel, 0x80000000u, 0), 0x80000008u, 0, 0, 0, "intel 0x80000000");
	/* The host has these, but past the clamp (topology, XSAVE, frequency,
	 * SVM, encrypted memory). */
	assert_zero(&intel, 0xb, 0);
	assert_zero(&intel, 0xd, 0);
	assert_zero(&intel, 0x16, 0);
	assert_zero(&amd, 0xd, 0);
	assert_zero(&amd, 0x8000001fu, 0);

	/* A host below the clamps keeps its own maxima. */
	assert_regs(ask(&small, 0, 0), 5, GENU, NTEL, INEI, "small leaf 0");
	assert_regs(ask(&small, 0x80000000u, 0), 0x80000004u, 0, 0, 0, "small 0x80000000");
	assert_zero(&small, 7, 0);
	assert_zero(&small, 0x80000008u, 0);
}

Test(cpuid_policy, hypervisor_leaves_name_it_and_give_the_clocks)
{
	struct cpuid_regs r = ask(&intel, 0x40000000u, 0);
	char vendor[13] = { 0 };

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.ecx, 4);
	memcpy(vendor + 8, &r.edx, 4);
	cr_assert_eq(r.eax, 0x40000001u, "highest hypervisor leaf");
	cr_assert_str_eq(vendor, "HvResearchV1");
	/* EAX: TSC in kHz; EBX: the local APIC timer's 1 GHz bus in kHz. */
	assert_regs(ask(&intel, 0x40000001u, 0), 3192000, 1000000, 0, 0, "intel 0x40000001");
	assert_regs(ask(&amd, 0x40000001u, 0), 2894563, 1000000, 0, 0, "amd 0x40000001");
	assert_zero(&intel, 0x40000002u, 0);
	assert_zero(&intel, 0x400000ffu, 0);
	unsigned before = intel.queries;
	ask(&intel, 0x40000000u, 0);
	cr_assert_eq(intel.queries, before, "the hypervisor's leaves never ask the host");
}

Test(cpuid_policy, kvm_clock_leaves_one_block_up)
{
	/* Linux's kvm_cpuid_base() looks in steps of 0x100 for the signature
	 * "KVMKVMKVM\0\0\0" and reads the features from the next leaf. */
	struct cpuid_regs r = ask(&amd, 0x40000100u, 0);
	char sig[12];

	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	cr_assert_eq(r.eax, 0x40000101u);
	cr_assert_eq(memcmp(sig, "KVMKVMKVM\0\0\0", 12), 0);
	/* CLOCKSOURCE2 (3), NOP_IO_DELAY (1), CLOCKSOURCE_STABLE_BIT (24); no
	 * async page faults, steal time, PV EOI or anything else. */
	assert_regs(ask(&amd, 0x40000101u, 0), (1u << 3) | (1u << 1) | (1u << 24), 0, 0, 0,
		    "kvm features");
	assert_zero(&amd, 0x40000102u, 0);
	assert_zero(&amd, 0x40000200u, 0);
}

Test(cpuid_policy, unknown_leaves_read_zero)
{
	/* Within the clamp but not passed through: monitor/mwait, thermal. */
	assert_zero(&intel, 3, 0);
	assert_zero(&intel, 5, 0);
	assert_zero(&intel, 6, 0);
	assert_zero(&small, 5, 0);
	/* Outside every range the policy knows. */
	assert_zero(&intel, 0x400001ffu + 1, 0);
	assert_zero(&intel, 0x20000000u, 0);
	assert_zero(&amd, 0x7fffffffu, 0);
	assert_zero(&amd, 0x8fffffffu, 0);
	assert_zero(&amd, 0xc0000000u, 0);
	assert_zero(&amd, 0xffffffffu, 0);
}

Test(cpuid_policy, leaf_7_keeps_listed_features_and_reports_no_subleaves)
{
	/* EBX keeps FSGSBASE, BMI1, SMEP, BMI2, ERMS, INVPCID, RDSEED, ADX,
	 * SMAP, CLFLUSHOPT, SHA; EAX (max subleaf), ECX, EDX are zero. */
	assert_regs(ask(&intel, 7, 0), 0, 0x009c0789, 0, 0, "intel leaf 7.0");
	assert_regs(ask(&amd, 7, 0), 0, 0x209c0189, 0, 0, "amd leaf 7.0");
	assert_zero(&intel, 7, 1); /* the host has AVX-VNNI and AVX512-BF16 there */
	assert_zero(&intel, 7, 2);
}

Test(cpuid_policy, passed_through_leaves_report_one_core)
{
	/* Leaf 4: cores per package (31:26) cleared; cache geometry kept. */
	assert_regs(ask(&intel, 4, 0), 0x00004121, 0x01c0003f, 0x3f, 0, "intel leaf 4");
	/* 0x80000008: address sizes kept, core count cleared, of EBX only
	 * CLZERO, RstrFpErrPtrs and WBNOINVD (no speculation-control MSRs). */
	assert_regs(ask(&amd, 0x80000008u, 0), 0x3030, 0x205, 0, 0x00010000, "amd 0x80000008");
	assert_regs(ask(&intel, 2, 0), 0x00feff01, 0xf0, 0, 0, "intel leaf 2 (cache descriptors)");
	assert_regs(ask(&intel, 0x80000002u, 0), 0x65746e49, 0x2952286c, 0x726f4320, 0x4d542865,
		    "brand string");
	/* Invariant TSC hidden: across hosts the TSC's rate is kvmclock's to
	 * tell, and Linux keeps to kvmclock only without it. */
	assert_regs(ask(&intel, 0x80000007u, 0), 0, 0, 0, 0, "no invariant TSC");
	assert_regs(ask(&amd, 0x80000005u, 0), 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140,
		    "amd L1 caches");
}
