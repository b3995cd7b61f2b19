#include <criterion/criterion.h>
#include <string.h>

#include "hv/vdev/pvclock.h"

static const uint64_t rates[] = { 1000000ull,   14318180ull,  100000000ull, 100001067ull,
				  999999999ull, 1000000000ull, 2099999000ull, 3500000000ull,
				  5999999999ull, 12000000000ull };

Test(pvclock, scale_keeps_31_bits_and_converts_within_a_part_per_billion)
{
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t hz = rates[i];
		struct pvclock_scale s = pvclock_scale_of(hz);
		cr_assert_geq(s.mul, 1u << 31, "%lu Hz: mul 0x%x", hz, s.mul);
		/* One hour of ticks against the exact nanoseconds. */
		uint64_t ticks = hz * 3600;
		uint64_t want = 3600ull * 1000000000ull;
		uint64_t got = pvclock_scale_ticks(ticks, s);
		uint64_t err = got > want ? got - want : want - got;
		cr_assert_leq(err, want / 1000000000ull + 1, "%lu Hz: %lu ns for an hour", hz, got);
		cr_assert_leq(got, want, "%lu Hz: rounding must not run ahead", hz);
	}
}

Test(pvclock, the_guest_derives_the_tsc_rate_back)
{
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t khz = pvclock_tsc_khz(pvclock_scale_of(rates[i]));
		uint64_t want = rates[i] / 1000;
		/* Linux divides before it shifts: a negative shift multiplies
		 * the rounding, 4 kHz at most for rates below 16 GHz. */
		uint64_t err = khz > want ? khz - want : want - khz;
		cr_assert_leq(err, 4, "%lu Hz read back as %lu kHz", rates[i], khz);
	}
}

Test(pvclock, known_scales)
{
	/* 1 GHz: one tick is one nanosecond, mul 2^31 with shift 1. */
	struct pvclock_scale s = pvclock_scale_of(1000000000ull);
	cr_assert_eq(s.mul, 0x80000000u);
	cr_assert_eq(s.shift, 1);
	/* 100 MHz: 10 ns a tick = 0.625 * 2^4. */
	s = pvclock_scale_of(100000000ull);
	cr_assert_eq(s.shift, 4);
	cr_assert_eq(s.mul, 0xa0000000u);
	cr_assert_eq(pvclock_scale_ticks(7, s), 70);
}

Test(pvclock, record_layout_is_the_abi)
{
	struct pvclock_time_info t = { .version = 4, .tsc_timestamp = 0x1122334455667788ull,
				       .system_time = 0x0102030405060708ull,
				       .scale = { 0xa0000000u, -2 }, .flags = PVCLOCK_TSC_STABLE_BIT };
	uint8_t b[PVCLOCK_TIME_INFO_SIZE];
	memset(b, 0xee, sizeof(b));
	pvclock_encode_time(&t, b);
	const uint8_t want[PVCLOCK_TIME_INFO_SIZE] = {
		4, 0, 0, 0, 0, 0, 0, 0,
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0, 0, 0, 0xa0, 0xfe, 1, 0, 0,
	};
	cr_assert_arr_eq(b, want, sizeof(want));
	struct pvclock_time_info back;
	cr_assert(pvclock_decode_time(b, &back));
	cr_assert_eq(back.tsc_timestamp, t.tsc_timestamp);
	cr_assert_eq(back.system_time, t.system_time);
	cr_assert_eq(back.scale.mul, t.scale.mul);
	cr_assert_eq(back.scale.shift, -2);
	cr_assert_eq(back.flags, PVCLOCK_TSC_STABLE_BIT);

	uint8_t w[PVCLOCK_WALL_CLOCK_SIZE];
	pvclock_encode_wall(2, 1700000000ull * 1000000000ull + 123456789ull, w);
	const uint8_t want_w[PVCLOCK_WALL_CLOCK_SIZE] = { 2, 0, 0, 0, 0x00, 0xf1, 0x53, 0x65,
							   0x15, 0xcd, 0x5b, 0x07 };
	cr_assert_arr_eq(w, want_w, sizeof(want_w));
}

Test(pvclock, records_a_host_did_not_write_are_refused)
{
	uint8_t b[PVCLOCK_TIME_INFO_SIZE] = { 0 };
	struct pvclock_time_info t;
	cr_assert_not(pvclock_decode_time(b, &t), "zero multiplier");
	struct pvclock_time_info odd = { .version = 3, .scale = { 0x80000000u, 1 } };
	pvclock_encode_time(&odd, b);
	cr_assert_not(pvclock_decode_time(b, &t), "update in progress");
}

Test(pvclock, reading_before_the_anchor_gives_the_anchor)
{
	struct pvclock_time_info t = { .tsc_timestamp = 1000, .system_time = 5000,
				       .scale = pvclock_scale_of(1000000000ull) };
	cr_assert_eq(pvclock_read(&t, 999), 5000);
	cr_assert_eq(pvclock_read(&t, 1000), 5000);
	cr_assert_eq(pvclock_read(&t, 1500), 5500);
}
