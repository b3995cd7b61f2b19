#include <criterion/criterion.h>

#include "hv/lib/parse.h"

Test(parse, numbers)
{
	uint64_t v = 99;

	cr_assert(parse_u64("0", &v) && v == 0);
	cr_assert(parse_u64("12345", &v) && v == 12345);
	cr_assert(parse_u64("0x1F", &v) && v == 31);
	cr_assert(parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	v = 7;
	cr_assert_not(parse_u64("18446744073709551616", &v));
	cr_assert_not(parse_u64("", &v));
	cr_assert_not(parse_u64("0x", &v));
	cr_assert_not(parse_u64("12a", &v));
	cr_assert_not(parse_u64("-1", &v));
	cr_assert_not(parse_u64(" 1", &v));
	cr_assert_not(parse_u64(NULL, &v));
	cr_assert_eq(v, 7, "failed parses must not write");
}

Test(parse, sizes)
{
	uint64_t v;

	cr_assert(parse_size("4096", &v) && v == 4096);
	cr_assert(parse_size("64M", &v) && v == 64ull << 20);
	cr_assert(parse_size("64m", &v) && v == 64ull << 20);
	cr_assert(parse_size("1GiB", &v) && v == 1ull << 30);
	cr_assert(parse_size("2KB", &v) && v == 2048);
	cr_assert(parse_size("1T", &v) && v == 1ull << 40);
	cr_assert(parse_size("0x10k", &v) && v == 16 * 1024);
	cr_assert_not(parse_size("64X", &v));
	cr_assert_not(parse_size("M", &v));
	cr_assert_not(parse_size("64MM", &v));
	cr_assert_not(parse_size("17179869184G", &v), "overflow accepted");
}

Test(parse, ipv4)
{
	uint32_t a;

	cr_assert(parse_ipv4("10.0.2.15", &a) && a == 0x0a00020f);
	cr_assert(parse_ipv4("255.255.255.255", &a) && a == 0xffffffff);
	cr_assert_not(parse_ipv4("256.1.1.1", &a));
	cr_assert_not(parse_ipv4("1.2.3", &a));
	cr_assert_not(parse_ipv4("1.2.3.4.5", &a));
	cr_assert_not(parse_ipv4("1..3.4", &a));
	cr_assert_not(parse_ipv4("a.b.c.d", &a));
	cr_assert_not(parse_ipv4("0001.2.3.4", &a));
}

Test(parse, hex_digits)
{
	cr_assert_eq(parse_hex_digit('0'), 0);
	cr_assert_eq(parse_hex_digit('a'), 10);
	cr_assert_eq(parse_hex_digit('F'), 15);
	cr_assert_eq(parse_hex_digit('g'), -1);
	cr_assert_eq(parse_hex_digit(' '), -1);
}
