/* The NVRAM record of retired pages: round trip, and every kind of damage
 * refused with a reason (a bad record must never retire random pages or
 * crash the boot). */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/mce/retired_record.h"

static uint8_t buf[RETIRED_RECORD_MAX + 64];
static struct retired_entry out[RETIRED_MAX];
static char err[128];

static const struct retired_entry sample[] = {
	{ 0x12345000, 1763900000, RETIRE_UNCORRECTED },
	{ 0x20000000, 0, RETIRE_OPERATOR },
	{ 0x7ffff000, 1763900100, RETIRE_INJECTED },
};

static size_t encode_sample(void)
{
	return retired_record_encode(sample, 3, buf);
}

static int decode(size_t len, size_t *n)
{
	return retired_record_decode(buf, len, out, n, err, sizeof(err));
}

Test(retired_record, round_trip)
{
	size_t n, len = encode_sample();

	cr_assert_eq(len, 16 + 3 * 16);
	cr_assert_eq(decode(len, &n), 0, "%s", err);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(out[i].addr, sample[i].addr);
		cr_assert_eq(out[i].when, sample[i].when);
		cr_assert_eq(out[i].reason, sample[i].reason);
	}
	cr_assert_eq(retired_record_encode(sample, 0, buf), 16);
	cr_assert_eq(decode(16, &n), 0);
	cr_assert_eq(n, 0);
}

Test(retired_record, damage_is_refused_with_a_reason)
{
	size_t n, len = encode_sample();
	struct { size_t off; uint8_t val; const char *why; } cases[] = {
		{ 0, 'X', "magic" },
		{ 4, 2, "version 2" },
		{ 6, 8, "entry size" },
		{ 8, 4, "length" },
		{ 12, 0x55, "checksum" },
		{ 20, 0x77, "checksum" }, /* a flipped address bit */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		encode_sample();
		buf[cases[i].off] = cases[i].val;
		n = 99;
		cr_assert_eq(decode(len, &n), -1, "case %zu", i);
		cr_assert_eq(n, 0);
		cr_assert(strstr(err, cases[i].why), "case %zu: %s", i, err);
	}
	encode_sample();
	cr_assert_eq(decode(len - 1, &n), -1, "truncated");
	cr_assert_eq(decode(10, &n), -1, "shorter than the header");
	cr_assert(strstr(err, "truncated"), "%s", err);
}

Test(retired_record, bad_entries_are_refused_even_with_a_good_checksum)
{
	size_t n;
	struct retired_entry e[2] = { { 0x5000, 0, RETIRE_OPERATOR }, { 0x4000, 0, RETIRE_OPERATOR } };

	cr_assert_eq(decode(retired_record_encode(e, 2, buf), &n), -1);
	cr_assert(strstr(err, "order"), "%s", err);
	e[1].addr = 0x5000;
	cr_assert_eq(decode(retired_record_encode(e, 2, buf), &n), -1, "repeated");
	e[1] = (struct retired_entry){ 0x6800, 0, RETIRE_OPERATOR };
	cr_assert_eq(decode(retired_record_encode(e, 2, buf), &n), -1, "unaligned");
	e[1] = (struct retired_entry){ 0x6000, 0, 9 };
	cr_assert_eq(decode(retired_record_encode(e, 2, buf), &n), -1, "unknown reason");
	e[0].addr = 0;
	e[1].reason = RETIRE_OPERATOR;
	cr_assert_eq(decode(retired_record_encode(e, 2, buf), &n), -1, "page 0");
	cr_assert_eq(retired_record_encode(e, RETIRED_MAX + 1, buf), 0, "too many");
}
