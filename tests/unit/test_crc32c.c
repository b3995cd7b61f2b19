/* CRC-32C: the check value of the Castagnoli CRC, then the SSE4.2 path
 * against the software one over every alignment and length up to a few
 * words and over random buffers fed in random pieces. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/lib/crc32c.h"

static uint8_t buf[70000];

Test(crc32c, check_value_and_known_vectors)
{
	/* The catalogue's check value: CRC-32C of "123456789". */
	cr_assert_eq(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	uint8_t zeros[32] = { 0 }, ones[32];
	memset(ones, 0xff, sizeof(ones));
	/* RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones. */
	cr_assert_eq(crc32c_sw(0, zeros, 32), 0x8a9136aau);
	cr_assert_eq(crc32c_sw(0, ones, 32), 0x62a8ab43u);
	if (crc32c_hw_available()) {
		cr_assert_eq(crc32c_hw(0, "123456789", 9), 0xe3069283u);
		cr_assert_eq(crc32c_hw(0, zeros, 32), 0x8a9136aau);
		cr_assert_eq(crc32c_hw(0, ones, 32), 0x62a8ab43u);
	}
	cr_assert_eq(crc32c(0, "123456789", 9), 0xe3069283u, "the dispatcher (%s)",
		     crc32c_impl());
}

Test(crc32c, both_paths_agree_at_every_alignment_and_length)
{
	if (!crc32c_hw_available())
		cr_skip_test("this host has no SSE4.2");
	srand(99);
	for (size_t i = 0; i < 256; i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 100; len++)
			cr_assert_eq(crc32c_hw(0x1234u, buf + off, len),
				     crc32c_sw(0x1234u, buf + off, len), "offset %zu length %zu", off,
				     len);
}

Test(crc32c, both_paths_agree_over_random_pieces)
{
	if (!crc32c_hw_available())
		cr_skip_test("this host has no SSE4.2");
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	uint32_t whole = crc32c_sw(0, buf, sizeof(buf));
	for (int round = 0; round < 20; round++) {
		uint32_t c = 0;
		for (size_t at = 0; at < sizeof(buf);) {
			size_t n = (size_t)rand() % 5000;
			if (n > sizeof(buf) - at)
				n = sizeof(buf) - at;
			c = crc32c_hw(c, buf + at, n);
			at += n;
		}
		cr_assert_eq(c, whole, "round %d", round);
	}
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not a timed test: prints the two paths' rates over a 4 KiB page, side
 * by side, for docs/benchmarks.md (the hypervisor checks one per page). */
Test(crc32c, rates_side_by_side)
{
	if (!crc32c_hw_available())
		cr_skip_test("this host has no SSE4.2");
	enum { PAGE = 4096, N = 20000 };
	uint32_t c1 = 0, c2 = 0;
	double t0 = seconds();
	for (int i = 0; i < N; i++)
		c1 = crc32c_sw(c1, buf, PAGE);
	double t1 = seconds();
	for (int i = 0; i < N; i++)
		c2 = crc32c_hw(c2, buf, PAGE);
	double t2 = seconds();
	cr_assert_eq(c1, c2);
	double mb = (double)PAGE * N / 1e6;
	fprintf(stderr, "crc32c: software %.0f MB/s, sse4.2 %.0f MB/s (%.1fx)\n", mb / (t1 - t0),
		    mb / (t2 - t1), (t1 - t0) / (t2 - t1));
}
