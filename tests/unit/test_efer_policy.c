/* One EFER policy for both backends (hv/vm/msr_policy.c): which bits a
 * guest may set, from the CPUID it is shown, and a WRMSR to EFER as the
 * SDM (vol. 3, 2.2.1 and 9.8.5) and APM (vol. 2, 3.1.7 and 14.6) define
 * it. Bit values are spelled out: SCE 0x1, LME 0x100, LMA 0x400,
 * NXE 0x800, SVME 0x1000. */
#include <criterion/criterion.h>

#include "hv/vm/cpuid_policy.h"
#include "hv/vm/msr_policy.h"

#define SCE 0x1ull
#define LME 0x100ull
#define LMA 0x400ull
#define NXE 0x800ull
#define SVME 0x1000ull
#define PG (1ull << 31)
#define PE 1ull

/* A host whose extended leaf 0x80000001 EDX is 'e1_edx', and whose
 * highest extended leaf is 'max_ext'. */
struct e1_host {
	struct cpuid_host host;
	uint32_t max_ext, e1_edx;
};

static struct cpuid_regs e1_query(const struct cpuid_host *host, uint32_t leaf, uint32_t sub)
{
	const struct e1_host *h = (const struct e1_host *)host;

	(void)sub;
	if (leaf == 0x80000000u)
		return (struct cpuid_regs){ h->max_ext, 0, 0, 0 };
	if (leaf == 0x80000001u)
		return (struct cpuid_regs){ 0, 0, 0, h->e1_edx };
	return (struct cpuid_regs){ 0, 0, 0, 0 };
}

static uint64_t allowed_for(uint32_t max_ext, uint32_t e1_edx)
{
	struct e1_host h = { { e1_query, 1000000000ull }, max_ext, e1_edx };

	return efer_guest_allowed(&h.host);
}

#define E1_NX (1u << 20)
#define E1_LM (1u << 29)
#define E1_SYSCALL (1u << 11)

Test(efer_policy, allowed_bits_follow_the_guest_cpuid)
{
	cr_assert_eq(allowed_for(0x80000008u, E1_LM | E1_NX | E1_SYSCALL), SCE | LME | NXE);
	cr_assert_eq(allowed_for(0x80000008u, E1_LM | E1_SYSCALL), SCE | LME, "no NX: no NXE");
	cr_assert_eq(allowed_for(0x80000008u, E1_NX), SCE | NXE, "no LM: no LME");
	cr_assert_eq(allowed_for(0x80000008u, 0), SCE, "SCE on every CPU with EFER");
	cr_assert_eq(allowed_for(0x80000000u, E1_LM | E1_NX), SCE,
		     "leaf 0x80000001 past the host's maximum reads zero");
}

/* Writes 'value' and expects MSR_FAULT with *result untouched. */
static void faults(uint64_t current, uint64_t value, uint64_t cr0, uint64_t allowed)
{
	uint64_t result = 0xdeadbeef;

	cr_assert_eq(efer_guest_write(current, value, cr0, allowed, &result), MSR_FAULT,
		     "EFER 0x%lx -> 0x%lx (CR0 0x%lx, allowed 0x%lx) accepted",
		     (unsigned long)current, (unsigned long)value, (unsigned long)cr0,
		     (unsigned long)allowed);
	cr_assert_eq(result, 0xdeadbeef, "result written on a fault");
}

/* Writes 'value' and expects MSR_OK with EFER becoming 'want'. */
static void becomes(uint64_t current, uint64_t value, uint64_t cr0, uint64_t allowed,
		    uint64_t want)
{
	uint64_t result = 0xdeadbeef;

	cr_assert_eq(efer_guest_write(current, value, cr0, allowed, &result), MSR_OK,
		     "EFER 0x%lx -> 0x%lx (CR0 0x%lx, allowed 0x%lx) refused",
		     (unsigned long)current, (unsigned long)value, (unsigned long)cr0,
		     (unsigned long)allowed);
	cr_assert_eq(result, want, "EFER 0x%lx -> 0x%lx gave 0x%lx, expected 0x%lx",
		     (unsigned long)current, (unsigned long)value, (unsigned long)result,
		     (unsigned long)want);
}

#define ALL (SCE | LME | NXE)

Test(efer_policy, reserved_bits_fault)
{
	faults(0, 1ull << 1, 0, ALL);
	faults(0, 1ull << 9, 0, ALL);
	faults(0, SVME, 0, ALL); /* never offered: no nested virtualization */
	faults(0, 1ull << 14, 0, ALL); /* FFXSR: not offered */
	faults(0, 1ull << 63, 0, ALL);
	faults(SCE, SCE | (1ull << 32), PE, ALL);
}

Test(efer_policy, features_the_guest_lacks_fault)
{
	faults(0, NXE, 0, SCE | LME);
	faults(0, SCE | NXE, 0, SCE | LME);
	faults(0, LME, 0, SCE | NXE);
	faults(0, LME, 0, SCE);
	becomes(0, NXE, 0, SCE | NXE, NXE);
	becomes(0, LME, 0, SCE | LME, LME);
}

Test(efer_policy, sce_is_always_allowed)
{
	becomes(0, SCE, 0, SCE, SCE);
	becomes(SCE, 0, PG | PE, SCE, 0);
	becomes(LME | LMA, LME | SCE, PG | PE, SCE | LME, SCE | LME | LMA);
}

Test(efer_policy, lme_cannot_change_while_paging_is_on)
{
	faults(0, LME, PG | PE, ALL);                 /* on with paging on */
	faults(LME | LMA, 0, PG | PE, ALL);           /* off in long mode */
	faults(LME | LMA | SCE | NXE, SCE | NXE | LMA, PG | PE, ALL);
	faults(LME, 0, PG, ALL);
	/* With paging off both ways work (LMA is clear then). */
	becomes(0, LME, PE, ALL, LME);
	becomes(LME, 0, 0, ALL, 0);
	/* Paging on, LME unchanged: other bits may change. */
	becomes(LME | LMA, LME | NXE | SCE, PG | PE, ALL, LME | LMA | NXE | SCE);
	becomes(LME | LMA | NXE, LME, PG | PE, ALL, LME | LMA);
	becomes(0, NXE, PG | PE, ALL, NXE);
}

Test(efer_policy, lma_is_the_cpus_and_never_taken_from_the_value)
{
	becomes(LME | LMA, LME, PG | PE, ALL, LME | LMA);  /* kept although the value clears it */
	becomes(0, LMA, 0, ALL, 0);                        /* not set by a write */
	becomes(LME, LME | LMA, 0, ALL, LME);
	becomes(LME | LMA, LME | LMA | SCE, PG, ALL, LME | LMA | SCE);
	faults(0, LMA | SVME, 0, ALL);                     /* LMA does not hide a reserved bit */
}
