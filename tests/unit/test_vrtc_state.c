/* The MC146818A's state blob: round trips that keep the clock, flags and
 * IRQ8, every refusal rule, random activity. */
#include "hv/vdev/vrtc.h"
#include "state_test.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define UNIX_BASE 1700000000 /* 2023-11-14 22:13:20 UTC */

enum { INDEX = 128, NMI = 129, SECONDS_AT_TICK0 = 130, DOW_OFFSET = 138, CHAIN_REF_NS = 139,
       CHAIN_REF_TICK = 147, TICK_DONE = 155, IRQ_LEVEL = 163 };

static void record_irq8(void *ctx, unsigned line, bool level)
{
	(void)line;
	st_note(ctx, 0x3000 | level);
}

static void fresh(struct vrtc *rtc, struct st_transcript *t)
{
	struct irq_line irq8 = { record_irq8, t, 8 };

	vrtc_init(rtc, UNIX_BASE, 7 * SEC, &irq8);
}

static void wr(struct vrtc *rtc, uint8_t reg, uint8_t v, uint64_t now)
{
	vrtc_write(rtc, 0, reg, now);
	vrtc_write(rtc, 1, v, now);
}

static uint8_t rd(struct vrtc *rtc, uint8_t reg, uint64_t now)
{
	vrtc_write(rtc, 0, reg, now);
	return vrtc_read(rtc, 1, now);
}

/* 64 Hz periodic, update and alarm interrupts (alarm at every second
 * 30), a minute written in place (leaving stale time bytes), RAM, the
 * index on register C with NMIs disabled, IRQ8 high. */
static void busy(struct vrtc *rtc)
{
	wr(rtc, VRTC_REG_A, 0x2a, 8 * SEC);
	wr(rtc, VRTC_SECONDS_ALARM, 0x30, 8 * SEC);
	wr(rtc, VRTC_MINUTES_ALARM, 0xc0, 8 * SEC);
	wr(rtc, VRTC_HOURS_ALARM, 0xc0, 8 * SEC);
	wr(rtc, VRTC_REG_B, 0x72, 8 * SEC);
	wr(rtc, VRTC_MINUTES, 0x45, 8 * SEC + 300 * MS);
	wr(rtc, 0x40, 0x5a, 8 * SEC + 300 * MS);
	vrtc_write(rtc, 0, 0x80 | VRTC_REG_C, 9 * SEC + 5 * MS);
	vrtc_advance(rtc, 9 * SEC + 5 * MS);
}

static void drive(struct vrtc *rtc, struct st_transcript *t, uint64_t now)
{
	static const uint8_t regs[] = { VRTC_SECONDS, VRTC_MINUTES, VRTC_HOURS, VRTC_DAY_OF_WEEK,
					VRTC_DAY_OF_MONTH, VRTC_MONTH, VRTC_YEAR,
					VRTC_CENTURY_INDEX, VRTC_REG_A, VRTC_REG_B, 0x40 };

	st_note(t, vrtc_read(rtc, 1, now)); /* the selected register: C */
	for (unsigned i = 0; i < 60; i++) {
		now += 37 * MS;
		st_note(t, vrtc_next_event(rtc, now));
		vrtc_advance(rtc, now);
		if (i % 3 == 0)
			st_note(t, rd(rtc, VRTC_REG_C, now));
		st_note(t, rd(rtc, regs[i % sizeof(regs)], now));
		if (i == 40)
			wr(rtc, VRTC_REG_B, 0x82, now); /* SET: frozen */
		if (i == 45)
			wr(rtc, VRTC_HOURS, 0x23, now);
		if (i == 50)
			wr(rtc, VRTC_REG_B, 0x22, now);
	}
	st_note(t, (uint64_t)vrtc_unix_time(rtc, now));
}

static void round_trip(void (*prepare)(struct vrtc *), uint64_t then)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vrtc a, b;
	uint8_t blob[VRTC_STATE_SIZE], again[VRTC_STATE_SIZE];
	char err[160] = "";

	fresh(&a, &ta);
	prepare(&a);
	cr_assert_eq(vrtc_save(&a, blob, sizeof(blob)), VRTC_STATE_SIZE);
	fresh(&b, &tb);
	tb.n = 0;
	b.bad_times = 3;
	cr_assert_eq(vrtc_load(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.bad_times, 3, "counters stay");
	cr_assert_eq(tb.n, 1, "IRQ8 re-driven");
	cr_assert_eq(tb.v[0], 0x3000u | a.irq_level);
	cr_assert_eq(vrtc_save(&b, again, sizeof(again)), VRTC_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VRTC_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta, then);
	drive(&b, &tb, then);
	st_assert_same(&ta, &tb);
}

Test(vrtc_state, round_trip_keeps_bytes_and_behaviour)
{
	round_trip(busy, 9 * SEC + 5 * MS);
}

/* SET holds guest-written time bytes (bad BCD included) and the chain is
 * held in divider reset: all of it travels. */
static void frozen(struct vrtc *rtc)
{
	wr(rtc, VRTC_REG_B, 0x86, 8 * SEC);
	wr(rtc, VRTC_SECONDS, 0x7a, 8 * SEC);
	wr(rtc, VRTC_YEAR, 0x99, 8 * SEC);
	wr(rtc, VRTC_REG_A, 0x66, 8 * SEC + 700 * MS);
}

Test(vrtc_state, round_trip_in_set_mode_with_the_divider_stopped)
{
	round_trip(frozen, 8 * SEC + 700 * MS);
}

Test(vrtc_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vrtc a, before;
	uint8_t blob[VRTC_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t);
	cr_assert_eq(vrtc_save(&a, blob, VRTC_STATE_SIZE - 1), 0);
	cr_assert_eq(vrtc_save(&a, blob, sizeof(blob)), VRTC_STATE_SIZE);
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vrtc_load(&a, blob, VRTC_STATE_SIZE - 1, err, sizeof(err)), err,
			"vrtc: state is 163 bytes, expected 164");
	st_assert_error(vrtc_load(&a, blob, VRTC_STATE_SIZE + 1, err, sizeof(err)), err,
			"vrtc: state is 165 bytes, expected 164");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

/* Against the power-on state: A 0x26, B 0x02, chain at tick 0. */
static const struct st_case cases[] = {
	{ { { NMI, 1, 2 } }, "nmi_disabled: 2 is not 0 or 1" },
	{ { { IRQ_LEVEL, 1, 3 } }, "irq_level: 3 is not 0 or 1" },
	{ { { INDEX, 1, 0x80 } }, "index 128: past 127 (bit 7 is NMI)" },
	{ { { VRTC_REG_A, 1, 0xa6 } }, "cmos[0x0a] 0xa6: UIP is computed" },
	{ { { VRTC_REG_B, 1, 0x92 } }, "cmos[0x0b] 0x92: UIE with SET" },
	{ { { VRTC_REG_C, 1, 0x81 } }, "cmos[0x0c] 0x81: only PF, AF and UF are stored" },
	{ { { VRTC_REG_C, 1, 0x01 } }, "cmos[0x0c] 0x01: only PF, AF and UF are stored" },
	{ { { VRTC_REG_D, 1, 0x80 } }, "cmos[0x0d] 0x80: register D is computed" },
	{ { { VRTC_SECONDS, 1, 0x12 } },
	  "cmos[0x00] 0x12: computed while SET is clear (must be 0)" },
	{ { { VRTC_CENTURY_INDEX, 1, 0x20 } }, "cmos[0x32] 0x20: computed while SET is clear" },
	{ { { DOW_OFFSET, 1, 7 } }, "dow_offset 7: not 0-6" },
	{ { { SECONDS_AT_TICK0, 8, 253402300800 } },
	  "seconds_at_tick0 253402300800: outside years 0-9999" },
	{ { { SECONDS_AT_TICK0, 8, (uint64_t)INT64_MIN } },
	  "seconds_at_tick0 -9223372036854775808: outside years 0-9999" },
	{ { { TICK_DONE, 8, UINT64_MAX }, { CHAIN_REF_TICK, 8, UINT64_MAX } },
	  "tick_done 18446744073709551615: more than a VM clock can count" },
	{ { { CHAIN_REF_TICK, 8, 5 } }, "chain_ref_tick 5: past tick_done 0" },
	{ { { VRTC_REG_A, 1, 0x66 }, { TICK_DONE, 8, 10 }, { CHAIN_REF_TICK, 8, 5 } },
	  "chain stopped but chain_ref_tick 5 differs from tick_done 10" },
	{ { { CHAIN_REF_NS, 8, (1ull << 63) + 1 } },
	  "chain_ref_ns 9223372036854775809: past 2^63 ns of VM time" },
	{ { { CHAIN_REF_NS, 8, (1ull << 63) - 1000000000 }, { TICK_DONE, 8, 32769 } },
	  "tick_done 32769: more ticks since chain_ref_tick than VM time up to 2^63 ns holds" },
	{ { { IRQ_LEVEL, 1, 1 } }, "irq_level 1 but IRQF is 0" },
	{ { { VRTC_REG_B, 1, 0x42 }, { VRTC_REG_C, 1, 0x40 } }, "irq_level 0 but IRQF is 1" },
};

Test(vrtc_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vrtc src, dst, before;
	uint8_t base[VRTC_STATE_SIZE], blob[VRTC_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vrtc_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t);
		busy(&dst);
		memcpy(&before, &dst, sizeof(dst));
		unsigned calls = t.n;
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vrtc_load(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the device", i);
		cr_assert_eq(t.n, calls, "case %u drove IRQ8", i);
	}
}

Test(vrtc_state, limits_that_load)
{
	static const struct st_case ok[] = {
		{ { { VRTC_REG_B, 1, 0x86 }, { VRTC_SECONDS, 1, 0xff },
		    { VRTC_CENTURY_INDEX, 1, 0x7f } } },
		{ { { SECONDS_AT_TICK0, 8, 253402300799 }, { INDEX, 1, 0x7f },
		    { DOW_OFFSET, 1, 6 } } },
		{ { { VRTC_REG_A, 1, 0x06 }, { TICK_DONE, 8, 99 }, { CHAIN_REF_TICK, 8, 99 } } },
		{ { { CHAIN_REF_NS, 8, (1ull << 63) - 1000000000 }, { TICK_DONE, 8, 32768 } } },
		{ { { VRTC_REG_B, 1, 0x7f }, { VRTC_REG_C, 1, 0x70 }, { IRQ_LEVEL, 1, 1 } } },
	};
	struct st_transcript t = { 0 };
	struct vrtc src, dst;
	uint8_t base[VRTC_STATE_SIZE], blob[VRTC_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vrtc_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &ok[i]);
		fresh(&dst, &t);
		cr_assert_eq(vrtc_load(&dst, blob, sizeof(blob), err, sizeof(err)), 0, "%u: %s", i,
			     err);
	}
}

Test(vrtc_state, random_activity_stays_loadable)
{
	static const uint8_t regs[] = { 0x00, 0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a,
					0x0a, 0x0b, 0x0b, 0x0c, 0x0d, 0x32, 0x40 };
	struct st_transcript t = { 0 };
	struct vrtc a, b;
	uint8_t blob[VRTC_STATE_SIZE], again[VRTC_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x146818, now = 7 * SEC;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		uint8_t reg = regs[(r >> 8) % sizeof(regs)], v = (uint8_t)(r >> 16);
		now += (r >> 32) % (300 * MS);
		t.n = 0;
		switch (r % 4) {
		case 0: case 1: wr(&a, reg, v, now); break;
		case 2: rd(&a, reg, now); break;
		default: vrtc_advance(&a, now); break;
		}
		vrtc_save(&a, blob, sizeof(blob));
		fresh(&b, &t);
		cr_assert_eq(vrtc_load(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vrtc_save(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
