#include <criterion/criterion.h>

#include "hv/vdev/rtc_calendar.h"
#include "hv/vdev/vrtc.h"

#define SEC 1000000000ull
#define BASE_NS (7 * SEC) /* the VM clock at the base: not 0, to catch offsets */
/* seconds, minutes, hours, day of week, day, month, year, century */
#define TIME(...) ((const uint8_t[8]){ __VA_ARGS__ })

/* IRQ8 as the 8259 would see it: the level and the rising edges. */
struct irq_probe {
	bool level;
	unsigned rises;
};

static struct irq_probe probe;
static struct vrtc rtc;

static void probe_set(void *ctx, unsigned line, bool level)
{
	struct irq_probe *p = ctx;

	cr_assert_eq(line, 8);
	if (level && !p->level)
		p->rises++;
	p->level = level;
}

static void start(int64_t unix_seconds)
{
	struct irq_line line = { probe_set, &probe, 8 };

	probe = (struct irq_probe){ 0 };
	vrtc_init(&rtc, unix_seconds, BASE_NS, &line);
}

static uint8_t rd(uint8_t reg, uint64_t now)
{
	vrtc_write(&rtc, 0, reg, now);
	return vrtc_read(&rtc, 1, now);
}

static void wr(uint8_t reg, uint8_t value, uint64_t now)
{
	vrtc_write(&rtc, 0, reg, now);
	vrtc_write(&rtc, 1, value, now);
}

/* seconds, minutes, hours, day of week, day, month, year, century */
static void expect_time(uint64_t now, const uint8_t want[8])
{
	static const uint8_t regs[8] = { 0, 2, 4, 6, 7, 8, 9, VRTC_CENTURY_INDEX };

	for (int i = 0; i < 8; i++) {
		uint8_t got = rd(regs[i], now);
		cr_assert_eq(got, want[i], "register %#x at %llu: %#x, want %#x", regs[i],
			     (unsigned long long)now, got, want[i]);
	}
}

/* Runs the VM's loop: advance at each event, the guest acknowledging each
 * interrupt by reading C. Returns the interrupts taken until 'end'. */
static unsigned run_until(uint64_t end)
{
	unsigned before = probe.rises;

	for (;;) {
		uint64_t next = vrtc_next_event(&rtc, 0);
		if (next > end)
			break;
		vrtc_advance(&rtc, next);
		cr_assert(probe.level, "event at %llu raised nothing", (unsigned long long)next);
		rd(VRTC_REG_C, next);
		cr_assert_not(probe.level);
	}
	vrtc_advance(&rtc, end);
	return probe.rises - before;
}

Test(rtc_calendar, every_day_1970_to_2200_matches_a_day_counter)
{
	unsigned y = 1970, m = 1, d = 1, wd = 4; /* a Thursday */

	for (int64_t day = 0; y < 2200; day++) {
		struct rtc_civil c;
		rtc_cal_civil_from_seconds(day * 86400 + 3723, &c);
		cr_assert(c.year == y && c.month == m && c.day == d && c.weekday == wd,
			  "day %lld: %u-%u-%u wd %u, want %u-%u-%u wd %u", (long long)day, c.year,
			  c.month, c.day, c.weekday, y, m, d, wd);
		cr_assert(c.hour == 1 && c.minute == 2 && c.second == 3);
		cr_assert_eq(rtc_cal_days_from_civil(y, m, d), day);
		wd = (wd + 1) % 7;
		if (++d > rtc_cal_days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

Test(rtc_calendar, leap_rules_and_range_ends)
{
	struct rtc_civil c;

	cr_assert(rtc_cal_is_leap(2000) && rtc_cal_is_leap(2024) && !rtc_cal_is_leap(2100));
	cr_assert_eq(rtc_cal_days_in_month(2100, 2), 28);
	cr_assert_eq(rtc_cal_days_in_month(2000, 2), 29);
	rtc_cal_civil_from_seconds(-1, &c); /* before the epoch */
	cr_assert(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.weekday == 3);
	rtc_cal_civil_from_seconds(INT64_MAX, &c);
	cr_assert(c.year == 9999 && c.month == 12 && c.day == 31 && c.second == 59);
	rtc_cal_civil_from_seconds(INT64_MIN, &c);
	cr_assert(c.year == 0 && c.month == 1 && c.day == 1 && c.hour == 0);
}

Test(vrtc, power_on_registers)
{
	start(0);
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS), 0x26);
	cr_assert_eq(rd(VRTC_REG_B, BASE_NS), 0x02);
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS), 0x00);
	cr_assert_eq(rd(VRTC_REG_D, BASE_NS), 0x80);
	cr_assert_not(probe.level);
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS), UINT64_MAX, "nothing enabled");
}

Test(vrtc, date_rolls_over_day_month_and_year)
{
	start(1704067198); /* 2023-12-31 23:59:58, a Sunday */
	expect_time(BASE_NS, TIME(0x58, 0x59, 0x23, 1, 0x31, 0x12, 0x23, 0x20));
	expect_time(BASE_NS + SEC - 1, TIME(0x58, 0x59, 0x23, 1, 0x31, 0x12, 0x23, 0x20));
	expect_time(BASE_NS + SEC, TIME(0x59, 0x59, 0x23, 1, 0x31, 0x12, 0x23, 0x20));
	expect_time(BASE_NS + 2 * SEC, TIME(0x00, 0x00, 0x00, 2, 0x01, 0x01, 0x24, 0x20));
}

Test(vrtc, leap_day_and_century)
{
	start(1709164799); /* 2024-02-28 23:59:59, a Wednesday */
	expect_time(BASE_NS + SEC, TIME(0, 0, 0, 5, 0x29, 0x02, 0x24, 0x20));
	expect_time(BASE_NS + 86401 * SEC, TIME(0, 0, 0, 6, 0x01, 0x03, 0x24, 0x20));

	start(1677628799); /* 2023-02-28 23:59:59: no leap day */
	expect_time(BASE_NS + SEC, TIME(0, 0, 0, 4, 0x01, 0x03, 0x23, 0x20));

	start(4102444799); /* 2099-12-31 23:59:59 */
	expect_time(BASE_NS + SEC, TIME(0, 0, 0, 6, 0x01, 0x01, 0x00, 0x21));
}

Test(vrtc, bcd_binary_and_12_hour_modes)
{
	start(1720136709); /* 2024-07-04 23:45:09 */
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 0x23);
	cr_assert_eq(rd(VRTC_MINUTES, BASE_NS), 0x45);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM_BINARY, BASE_NS);
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 23);
	cr_assert_eq(rd(VRTC_MINUTES, BASE_NS), 45);
	cr_assert_eq(rd(VRTC_YEAR, BASE_NS), 24);
	cr_assert_eq(rd(VRTC_CENTURY_INDEX, BASE_NS), 20);
	wr(VRTC_REG_B, VRTC_B_DM_BINARY, BASE_NS); /* 12 hour, binary: 11 PM */
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 0x8b);
	wr(VRTC_REG_B, 0, BASE_NS); /* 12 hour, BCD */
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 0x91);

	start(1720051500); /* 00:05: 12 AM */
	wr(VRTC_REG_B, 0, BASE_NS);
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 0x12);
	start(1720096200); /* 12:30: 12 PM */
	wr(VRTC_REG_B, 0, BASE_NS);
	cr_assert_eq(rd(VRTC_HOURS, BASE_NS), 0x92);
}

Test(vrtc, set_freezes_and_new_time_starts_on_clear)
{
	start(1720136709); /* 2024-07-04 23:45:09 */
	uint64_t t = BASE_NS + SEC / 4;

	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_SET | VRTC_B_UIE, t);
	cr_assert_eq(rd(VRTC_REG_B, t), VRTC_B_24H | VRTC_B_SET, "SET clears UIE");
	cr_assert_eq(rd(VRTC_SECONDS, t + 5 * SEC), 0x09, "frozen while SET");
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + 6 * SEC - 1000) & VRTC_A_UIP, 0, "no UIP while SET");
	cr_assert_eq(rd(VRTC_REG_C, t + 5 * SEC) & VRTC_C_UF, 0, "no updates while SET");
	/* Linux's sequence: the new time, then SET cleared. */
	const uint8_t when[][2] = { { 0, 0x30 }, { 2, 0x15 }, { 4, 0x08 }, { 7, 0x29 },
				    { 8, 0x02 }, { 9, 0x28 }, { VRTC_CENTURY_INDEX, 0x20 } };
	for (unsigned i = 0; i < 7; i++)
		wr(when[i][0], when[i][1], t + 6 * SEC);
	cr_assert_eq(rd(VRTC_MINUTES, t + 6 * SEC), 0x15, "a write reads back while SET");
	cr_assert_eq(rd(VRTC_HOURS, t + 7 * SEC), 0x08);
	wr(VRTC_REG_B, VRTC_B_24H, t + 7 * SEC);
	cr_assert_eq(vrtc_unix_time(&rtc, t + 7 * SEC), 1835424930); /* 2028-02-29 08:15:30 */
	/* The chain kept its phase: the next update is at its next second. */
	expect_time(BASE_NS + 8 * SEC - 1, TIME(0x30, 0x15, 0x08, 5, 0x29, 0x02, 0x28, 0x20));
	cr_assert_eq(rd(VRTC_SECONDS, BASE_NS + 8 * SEC), 0x31);
	cr_assert_eq(rtc.bad_times, 0);
}

Test(vrtc, a_write_without_set_changes_one_counter)
{
	start(1710066030); /* 2024-03-10 10:20:30, a Sunday */
	uint64_t t = BASE_NS + 2 * SEC + SEC / 2;

	wr(VRTC_MINUTES, 0x59, t);
	wr(VRTC_DAY_OF_WEEK, 0x03, t); /* the guest's own day-of-week count */
	expect_time(t, TIME(0x32, 0x59, 0x10, 3, 0x10, 0x03, 0x24, 0x20));
	expect_time(BASE_NS + 30 * SEC, TIME(0x00, 0x00, 0x11, 3, 0x10, 0x03, 0x24, 0x20));
	/* 13 hours later it is midnight: the day of week counter advances. */
	expect_time(BASE_NS + (30 + 13 * 3600) * SEC,
		    TIME(0x00, 0x00, 0x00, 4, 0x11, 0x03, 0x24, 0x20));
}

Test(vrtc, register_c_read_clears_and_drives_irq8)
{
	start(0);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE, BASE_NS);
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS), BASE_NS + SEC);
	vrtc_advance(&rtc, BASE_NS + SEC - 1);
	cr_assert_not(probe.level);
	vrtc_advance(&rtc, BASE_NS + SEC);
	cr_assert(probe.level);
	cr_assert_eq(probe.rises, 1);
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS + SEC), UINT64_MAX, "line already high");
	/* PF is set by the 1024 Hz tap as well, without PIE: a flag, no IRQF source. */
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS + SEC), VRTC_C_IRQF | VRTC_C_UF | VRTC_C_PF);
	cr_assert_not(probe.level);
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS + SEC), 0);
	/* An enable written while its flag is set raises IRQ8 at once. */
	vrtc_advance(&rtc, BASE_NS + SEC + SEC / 100);
	cr_assert_not(probe.level);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE, BASE_NS + SEC + SEC / 100);
	cr_assert(probe.level);
	wr(VRTC_REG_B, VRTC_B_24H, BASE_NS + SEC + SEC / 100);
	cr_assert_not(probe.level, "IRQF follows PF.PIE");
	cr_assert_eq(probe.rises, 2);
}

Test(vrtc, periodic_interrupt_counts)
{
	static const struct { uint8_t rate; unsigned per_second; } rates[] = {
		{ 1, 256 }, { 2, 128 }, { 3, 8192 }, { 6, 1024 }, { 15, 2 },
	};

	for (unsigned i = 0; i < 5; i++) {
		start(0);
		wr(VRTC_REG_A, VRTC_A_DV_32K | rates[i].rate, BASE_NS);
		wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE, BASE_NS);
		cr_assert_eq(run_until(BASE_NS + 2 * SEC), 2 * rates[i].per_second, "rate %u",
			     rates[i].rate);
	}
	/* The taps are in phase with the second: the first 1024 Hz edge comes
	 * 976562.5 ns after it. */
	start(0);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE, BASE_NS);
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS), BASE_NS + 976563);
	wr(VRTC_REG_A, VRTC_A_DV_32K, BASE_NS); /* rate 0: none */
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS), UINT64_MAX);
	cr_assert_eq(run_until(BASE_NS + SEC), 0);
}

Test(vrtc, update_ended_interrupt_once_a_second)
{
	start(1000);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE, BASE_NS + SEC / 3);
	for (unsigned s = 1; s <= 10; s++) {
		cr_assert_eq(vrtc_next_event(&rtc, 0), BASE_NS + s * SEC);
		cr_assert_eq(run_until(BASE_NS + s * SEC), 1);
	}
	/* A late advance, 5 updates later: one interrupt, the flag being set. */
	vrtc_advance(&rtc, BASE_NS + 15 * SEC + SEC / 2);
	cr_assert_eq(probe.rises, 11);
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS + 15 * SEC + SEC / 2) & VRTC_C_UF, VRTC_C_UF);
	cr_assert_eq(vrtc_unix_time(&rtc, BASE_NS + 15 * SEC + SEC / 2), 1015);
}

Test(vrtc, uip_window_is_244_us_before_each_update)
{
	start(0);
	/* The update at BASE + 1 s; UIP rises 8 chain ticks before, at
	 * 999755859.375 ns, so from the next whole nanosecond. */
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + 999755859), 0x26);
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + 999755860), 0xa6);
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + SEC - 1), 0xa6);
	cr_assert_eq(rd(VRTC_SECONDS, BASE_NS + SEC - 1), 0x00, "not updated yet");
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + SEC), 0x26);
	cr_assert_eq(rd(VRTC_SECONDS, BASE_NS + SEC), 0x01);
	cr_assert_eq(rd(VRTC_REG_A, 5 * SEC + BASE_NS + 999755860), 0xa6);
	wr(VRTC_REG_A, 0x2f | VRTC_A_UIP, BASE_NS + 7 * SEC); /* UIP is read-only */
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + 7 * SEC), 0x2f);
}

Test(vrtc, alarm_matches_time_and_dont_care_fields)
{
	start(1720136709); /* 23:45:09 */
	wr(VRTC_SECONDS_ALARM, 0x00, BASE_NS);
	wr(VRTC_MINUTES_ALARM, 0x47, BASE_NS);
	wr(VRTC_HOURS_ALARM, 0x23, BASE_NS);
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE, BASE_NS);
	cr_assert_eq(vrtc_next_event(&rtc, BASE_NS), BASE_NS + 111 * SEC);
	cr_assert_eq(run_until(BASE_NS + 111 * SEC - 1), 0);
	vrtc_advance(&rtc, BASE_NS + 111 * SEC);
	cr_assert(probe.level);
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS + 111 * SEC),
		     VRTC_C_IRQF | VRTC_C_AF | VRTC_C_UF | VRTC_C_PF);
	/* Next match: tomorrow, 86400 s later. */
	cr_assert_eq(vrtc_next_event(&rtc, 0), BASE_NS + (111 + 86400) * SEC);

	/* Every minute at second 15: hours and minutes don't care. */
	wr(VRTC_MINUTES_ALARM, 0xc0, BASE_NS + 111 * SEC);
	wr(VRTC_HOURS_ALARM, 0xff, BASE_NS + 111 * SEC);
	wr(VRTC_SECONDS_ALARM, 0x15, BASE_NS + 111 * SEC);
	cr_assert_eq(run_until(BASE_NS + 111 * SEC + 3 * 60 * SEC), 3);
	/* An alarm that can never match (minute 0x60 in BCD). */
	rd(VRTC_REG_C, BASE_NS + 400 * SEC);
	wr(VRTC_MINUTES_ALARM, 0x60, BASE_NS + 400 * SEC);
	cr_assert_not(probe.level);
	cr_assert_eq(vrtc_next_event(&rtc, 0), UINT64_MAX);
	/* 12-hour mode compares the PM bit: 11 PM is 0x91. */
	start(1720136709);
	wr(VRTC_REG_B, VRTC_B_AIE, BASE_NS);
	wr(VRTC_HOURS_ALARM, 0x91, BASE_NS);
	wr(VRTC_MINUTES_ALARM, 0x46, BASE_NS);
	wr(VRTC_SECONDS_ALARM, 0x00, BASE_NS);
	cr_assert_eq(vrtc_next_event(&rtc, 0), BASE_NS + 51 * SEC);
}

Test(vrtc, divider_reset_stops_the_clock_and_restarts_half_a_second_later)
{
	start(100);
	wr(VRTC_REG_A, 0x76, BASE_NS + SEC / 4); /* DV = 111: reset */
	cr_assert_eq(rd(VRTC_SECONDS, BASE_NS + 10 * SEC), 0x40, "stopped at 100 s = 1:40");
	cr_assert_eq(rd(VRTC_REG_A, BASE_NS + 10 * SEC + SEC - 1000), 0x76, "no UIP");
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE | VRTC_B_UIE, BASE_NS + 10 * SEC);
	cr_assert(probe.level, "PF from before the stop");
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS + 10 * SEC), VRTC_C_IRQF | VRTC_C_PF);
	cr_assert_eq(vrtc_next_event(&rtc, 0), UINT64_MAX, "a stopped chain has no events");
	cr_assert_eq(run_until(BASE_NS + 20 * SEC), 0);
	uint64_t release = BASE_NS + 20 * SEC;
	wr(VRTC_REG_A, 0x20, release); /* running, no periodic rate */
	cr_assert_eq(vrtc_next_event(&rtc, 0), release + SEC / 2);
	cr_assert_eq(rd(VRTC_SECONDS, release + SEC / 2 - 1), 0x40);
	cr_assert_eq(rd(VRTC_SECONDS, release + SEC / 2), 0x41);
}

Test(vrtc, bad_input_and_cmos_ram)
{
	start(0);
	wr(VRTC_REG_C, 0xf0, BASE_NS);
	wr(VRTC_REG_D, 0x00, BASE_NS);
	cr_assert_eq(rtc.bad_accesses, 2);
	cr_assert_eq(rd(VRTC_REG_D, BASE_NS), 0x80);
	cr_assert_eq(rd(VRTC_REG_C, BASE_NS), 0);
	cr_assert_eq(vrtc_read(&rtc, 0, BASE_NS), 0xff, "the index port is write-only");
	cr_assert_eq(vrtc_read(&rtc, 2, BASE_NS), 0xff);
	vrtc_write(&rtc, 3, 0, BASE_NS);
	cr_assert_eq(rtc.bad_accesses, 4);
	vrtc_write(&rtc, 0, 0x80 | 0x40, BASE_NS);
	cr_assert(rtc.nmi_disabled);
	vrtc_write(&rtc, 1, 0x5a, BASE_NS);
	cr_assert_eq(rd(0x40, BASE_NS), 0x5a, "RAM at index & 0x7f");
	cr_assert_not(rtc.nmi_disabled);
	cr_assert(vrtc_cmos_set(&rtc, 0x15, 0x80));
	cr_assert(vrtc_cmos_set(&rtc, 0x7f, 0x01));
	cr_assert_eq(rd(0x15, BASE_NS), 0x80);
	cr_assert_not(vrtc_cmos_set(&rtc, 0x0b, 0));
	cr_assert_not(vrtc_cmos_set(&rtc, VRTC_CENTURY_INDEX, 0));
	cr_assert_not(vrtc_cmos_set(&rtc, 0x80, 0));
	/* Invalid BCD and a 31st of February are clamped and counted. */
	wr(VRTC_REG_B, VRTC_B_24H | VRTC_B_SET, BASE_NS);
	wr(VRTC_SECONDS, 0x7a, BASE_NS);
	wr(VRTC_DAY_OF_MONTH, 0x31, BASE_NS);
	wr(VRTC_MONTH, 0x02, BASE_NS);
	wr(VRTC_REG_B, VRTC_B_24H, BASE_NS);
	cr_assert_eq(rtc.bad_times, 1);
	cr_assert_eq(rd(VRTC_SECONDS, BASE_NS), 0x59);
	cr_assert_eq(rd(VRTC_DAY_OF_MONTH, BASE_NS), 0x28);
}
