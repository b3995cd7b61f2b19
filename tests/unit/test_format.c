#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hv/lib/format.h"

/* Every case must print exactly what the C library prints. */
#define SAME(...)                                                             \
	do {                                                                  \
		char ours[256], libc[256];                                    \
		int a = fmt_snprintf(ours, sizeof(ours), __VA_ARGS__);        \
		int b = snprintf(libc, sizeof(libc), __VA_ARGS__);            \
		cr_assert_str_eq(ours, libc, "format %s", #__VA_ARGS__);     \
		cr_assert_eq(a, b, "length for %s", #__VA_ARGS__);            \
	} while (0)

Test(format, matches_libc)
{
	SAME("%d %i %u", -42, 17, 4000000000u);
	SAME("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	SAME("%x %X %#x %#X %08x %#010x", 0xbeefu, 0xbeefu, 0xbeefu, 0xbeefu, 0x12u, 0x12u);
	SAME("%o %#o %#o", 8u, 8u, 0u);
	SAME("%ld %lu %lx", -1L, (unsigned long)-1L, 0x123456789abcdefUL);
	SAME("%lld %llu", -9223372036854775807LL - 1, 18446744073709551615ULL);
	SAME("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
	SAME("%zu %zx %td", (size_t)12345, (size_t)0xabc, (ptrdiff_t)-5);
	SAME("%s|%10s|%-10s|%.3s|%10.2s", "abc", "abc", "abc", "abcdef", "abcdef");
	SAME("%c%c%5c%-3c|", 'a', 'b', 'c', 'd');
	SAME("%%|%5s%%|", "x");
	SAME("%.0d|%.5d|%8.3d|%-8.3d|", 0, 42, 42, 42);
	SAME("%*d|%-*d|%.*s", 6, 7, 6, 7, 2, "xyz");
	SAME("%p", (void *)0x1234);
	SAME("%d", 0);
	SAME("%u", 0u);
}

Test(format, truncates_and_reports_full_length)
{
	char buf[8];

	cr_assert_eq(fmt_snprintf(buf, sizeof(buf), "hello %s", "world"), 11);
	cr_assert_str_eq(buf, "hello w");
	cr_assert_eq(fmt_snprintf(buf, 1, "abc"), 3);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(fmt_snprintf(NULL, 0, "abc%d", 12), 5);
}

/* Malformed formats on purpose: the compiler's checks would refuse them. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"
Test(format, null_string_and_unknown_conversion)
{
	char buf[32];

	fmt_snprintf(buf, sizeof(buf), "%s", (char *)NULL);
	cr_assert_str_eq(buf, "(null)");
	fmt_snprintf(buf, sizeof(buf), "a%qb");
	cr_assert_str_eq(buf, "a%qb");
	fmt_snprintf(buf, sizeof(buf), "trailing %");
	cr_assert_str_eq(buf, "trailing ");
}
