/* hv/x86/entropy.c on the build machine's CPU (the instructions run in user mode too):
 * the source follows CPUID, reads fill exactly what was asked and differ, the jitter
 * reader varies. Skipped where the CPU has neither RDRAND nor RDSEED. */
#include <cpuid.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "hv/x86/entropy.h"

static enum entropy_hw expected_kind(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 18)))
		return ENTROPY_HW_RDSEED;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 30)))
		return ENTROPY_HW_RDRAND;
	return ENTROPY_HW_NONE;
}

Test(entropy, source_follows_cpuid)
{
	enum entropy_hw kind = expected_kind();

	cr_assert_eq(entropy_hw_kind(), kind);
	cr_assert_str_eq(entropy_hw_name(kind), kind == ENTROPY_HW_RDSEED ? "rdseed" :
						kind == ENTROPY_HW_RDRAND ? "rdrand" : "none");
}

Test(entropy, reads_fill_what_was_asked_and_differ)
{
	uint8_t a[48], b[48];

	if (entropy_hw_kind() == ENTROPY_HW_NONE)
		cr_skip_test("no RDRAND/RDSEED on this CPU");
	memset(a, 0xa5, sizeof(a));
	cr_assert(entropy_hw_read(a, 13));
	for (size_t i = 13; i < sizeof(a); i++)
		cr_assert_eq(a[i], 0xa5, "byte %zu written past the request", i);
	cr_assert(entropy_hw_read(a, sizeof(a)));
	cr_assert(entropy_hw_read(b, sizeof(b)));
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
}

Test(entropy, jitter_varies)
{
	uint8_t buf[64];
	unsigned distinct = 0;
	bool seen[256] = { false };

	entropy_jitter_read(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		distinct += !seen[buf[i]];
		seen[buf[i]] = true;
	}
	cr_assert_geq(distinct, 2, "64 timings, all the same");
}
