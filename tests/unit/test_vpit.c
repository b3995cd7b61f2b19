#include <criterion/criterion.h>

#include "hv/vdev/vpit.h"

#define MS 1000000ull
#define SECOND 1000000000ull

static struct vpit pit;
static unsigned irq_rises;
static bool irq_level;

static void record_irq(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	cr_assert_eq(line, 2);
	if (level && !irq_level)
		irq_rises++;
	irq_level = level;
}

static void setup(uint64_t now)
{
	struct irq_line irq0 = { .set = record_irq, .line = 2 };

	irq_rises = 0;
	irq_level = false;
	vpit_init(&pit, &irq0, now);
}

static void out(uint16_t port, uint8_t v, uint64_t now)
{
	vpit_write(&pit, port, 1, v, now);
}

static uint8_t in(uint16_t port, uint64_t now)
{
	return (uint8_t)vpit_read(&pit, port, 1, now);
}

/* Reads a counter programmed LSB-then-MSB, unlatched as Linux's quick
 * calibration does. */
static uint16_t read16(uint16_t port, uint64_t now)
{
	uint8_t lsb = in(port, now);
	return (uint16_t)(lsb | in(port, now) << 8);
}

static void program(unsigned counter, uint8_t mode_bits, uint16_t count, uint64_t now)
{
	out(0x43, (uint8_t)(counter << 6 | 0x30 | mode_bits), now);
	out((uint16_t)(0x40 + counter), (uint8_t)count, now);
	out((uint16_t)(0x40 + counter), (uint8_t)(count >> 8), now);
}

/* The first VM time at which PIT clock k has elapsed. */
static uint64_t at(uint64_t k)
{
	return vpit_tick_ns(k);
}

Test(vpit, clock_conversion)
{
	cr_assert_eq(vpit_tick(0), 0);
	cr_assert_eq(vpit_tick(838), 0);
	cr_assert_eq(vpit_tick(839), 1);
	cr_assert_eq(vpit_tick(SECOND), 1193182);
	cr_assert_eq(vpit_tick_ns(1), 839);
	cr_assert_eq(vpit_tick_ns(18), 15086);
	cr_assert_eq(vpit_tick_ns(1194), 1000686);
	cr_assert_eq(vpit_tick_ns(1193182), SECOND);
	cr_assert_eq(vpit_tick(vpit_tick_ns(59660) - 1), 59659);
}

Test(vpit, bios_state)
{
	setup(0);
	cr_assert_eq(pit.irq_edges, 0);
	cr_assert_eq(pit.bad_values + pit.bad_io, 0);
	out(0x43, 0xe2, 0); /* read back counter 0's status */
	cr_assert_eq(in(0x40, 0), 0xf6, "OUT high, null count, LSB/MSB, mode 3");
	cr_assert_eq(vpit_next_event(&pit, 0), at(1 + 65536), "18.2 Hz from the start");
	cr_assert_eq(in(0x61, 0), 0x20, "gate 2 off, OUT2 high (mode 3)");
}

/* Linux's periodic tick: mode 2, LATCH = 1193 (HZ = 1000). */
Test(vpit, mode2_period_and_irq_count_over_one_second)
{
	setup(0);
	program(0, 0x04, 1193, 0);
	cr_assert_eq(vpit_next_event(&pit, 0), 1000686, "first edge 1193 + 1 clocks after the write");
	vpit_advance(&pit, 1000685);
	cr_assert_eq(irq_rises, 0);
	uint64_t t, last = 0;
	while ((t = vpit_next_event(&pit, last)) <= SECOND) {
		cr_assert_gt(t, last);
		vpit_advance(&pit, t);
		last = t;
	}
	cr_assert_eq(irq_rises, 1000);
	cr_assert_eq(pit.irq_coalesced, 0);
	cr_assert_eq(last, at(1 + 1000 * 1193));
	cr_assert_eq(t, at(1 + 1001 * 1193));
	cr_assert_not(irq_level, "each edge is a pulse");
}

Test(vpit, late_advance_delivers_one_edge)
{
	setup(0);
	program(0, 0x04, 1193, 0);
	vpit_advance(&pit, SECOND);
	cr_assert_eq(irq_rises, 1);
	cr_assert_eq(pit.irq_coalesced, 999);
	cr_assert_eq(vpit_next_event(&pit, SECOND), at(1 + 1001 * 1193), "still in phase");
	vpit_advance(&pit, SECOND);
	cr_assert_eq(irq_rises, 1);
}

/* Linux's one-shot clockevent: mode 0, then a count per event. */
Test(vpit, mode0_single_interrupt)
{
	setup(0);
	program(0, 0x00, 1000, 5000); /* PIT clock 5 */
	cr_assert_eq(vpit_next_event(&pit, 5000), at(5 + 1 + 1000));
	out(0x43, 0xe2, at(1006) - 1);
	cr_assert_eq(in(0x40, at(1006) - 1) & 0x80, 0, "OUT low before terminal count");
	vpit_advance(&pit, at(1006));
	cr_assert_eq(irq_rises, 1);
	cr_assert_eq(vpit_next_event(&pit, at(1006)), UINT64_MAX);
	vpit_advance(&pit, 10 * SECOND);
	cr_assert_eq(irq_rises, 1, "once only");
	cr_assert_eq(read16(0x40, at(1006 + 5)), 0xfffb, "the CE wraps and counts on");
	/* The next event: a new count, no control word. */
	out(0x40, 100, 10 * SECOND);
	out(0x40, 0, 10 * SECOND);
	uint64_t k = vpit_tick(10 * SECOND);
	cr_assert_eq(vpit_next_event(&pit, 10 * SECOND), at(k + 101));
	vpit_advance(&pit, at(k + 101));
	cr_assert_eq(irq_rises, 2);
}

Test(vpit, mode0_first_byte_stops_counting)
{
	setup(0);
	out(0x61, 0x01, 0);
	program(2, 0x00, 1000, 0);
	out(0x42, 0x50, at(101)); /* LSB only: counting stops, OUT low */
	cr_assert_eq(read16(0x42, at(500)), 900);
	out(0x42, 0x00, at(600));
	cr_assert_eq(read16(0x42, at(601)), 0x50);
	cr_assert_eq(in(0x61, at(601 + 0x50) - 1) & 0x20, 0);
	cr_assert_eq(in(0x61, at(601 + 0x50)) & 0x20, 0x20);
}

Test(vpit, mode4_strobe)
{
	setup(0);
	program(0, 0x08, 100, 0);
	cr_assert_eq(vpit_next_event(&pit, 0), at(1 + 100 + 1), "OUT low for one clock at 0");
	out(0x43, 0xe2, at(101));
	cr_assert_eq(in(0x40, at(101)) & 0x80, 0);
	vpit_advance(&pit, at(102));
	cr_assert_eq(irq_rises, 1);
	cr_assert_eq(vpit_next_event(&pit, at(102)), UINT64_MAX);
}

Test(vpit, counter_latch_and_read_back)
{
	setup(0);
	program(0, 0x04, 10000, 0);
	out(0x43, 0x00, at(1 + 1234)); /* latch counter 0 */
	out(0x43, 0x00, at(5000));     /* ignored: a latch is pending */
	cr_assert_eq(read16(0x40, at(6000)), 10000 - 1234);
	cr_assert_eq(read16(0x40, at(6000)), 10000 - 5999, "the latch is released");
	/* Read-back: status then count of counter 0, counter 1 untouched. */
	out(0x43, 0xc2, at(7000));
	cr_assert_eq(in(0x40, at(8000)), 0xb4, "OUT high, count loaded, LSB/MSB, mode 2");
	cr_assert_eq(read16(0x40, at(8000)), 10000 - 6999);
	/* Status alone; a second status latch waits for the first read. */
	out(0x43, 0xe2, at(10000)); /* OUT low: the CE is 1 */
	out(0x43, 0xe2, at(10001));
	cr_assert_eq(in(0x40, at(10001)), 0x34, "the first status latched");
	out(0x43, 0x34, at(10002));
	out(0x43, 0xe2, at(10003));
	cr_assert_eq(in(0x40, at(10003)), 0x34 | 0x40 | 0x80, "null count after a control word");
	out(0x40, 0x10, at(10004));
	out(0x40, 0x00, at(10004));
	out(0x43, 0xe2, at(10004));
	cr_assert_eq(in(0x40, at(10005)), 0xb4 | 0x40, "null until the next clock loads the CE");
	out(0x43, 0xe2, at(10005));
	cr_assert_eq(in(0x40, at(10005)), 0xb4);
}

Test(vpit, lsb_msb_flip_flops)
{
	setup(0);
	out(0x61, 0x01, 0);
	out(0x43, 0x90, 0); /* counter 2, LSB only, mode 0 */
	out(0x42, 0x50, 0);
	cr_assert_eq(pit.ch[2].cr, 0x0050);
	cr_assert_eq(in(0x42, at(1)), 0x50);
	cr_assert_eq(in(0x42, at(1)), 0x50, "LSB only: no flip-flop");
	out(0x43, 0xa0, at(2)); /* MSB only */
	out(0x42, 0x12, at(2));
	cr_assert_eq(pit.ch[2].cr, 0x1200);
	cr_assert_eq(in(0x42, at(3 + 0x100)), 0x11);
	out(0x43, 0xb0, at(10000)); /* LSB then MSB */
	out(0x42, 0x34, at(10000));
	cr_assert_eq(pit.ch[2].write_msb, true);
	out(0x43, 0xb0, at(10000)); /* a control word resets the flip-flops */
	out(0x42, 0x34, at(10000));
	out(0x42, 0x12, at(10000));
	cr_assert_eq(pit.ch[2].cr, 0x1234);
	uint64_t k = vpit_tick(at(10000)) + 1;
	cr_assert_eq(in(0x42, at(k)), 0x34);
	out(0x43, 0x80, at(k + 0x34)); /* latch between the two reads */
	cr_assert_eq(in(0x42, at(k + 0x40)), 0x12, "MSB from the latch");
	cr_assert_eq(in(0x42, at(k + 0x40)), 0xf4, "then the LSB of the live count, 0x11f4");
}

Test(vpit, channel2_gate_and_out2_for_tsc_calibration)
{
	const uint16_t latch = 1193182 / 20; /* Linux: 50 ms */

	setup(0);
	out(0x61, (in(0x61, 0) & ~0x02) | 0x01, 1000);
	out(0x43, 0xb0, 1000);
	out(0x42, latch & 0xff, 2000);
	out(0x42, latch >> 8, 2000); /* PIT clock 2 */
	uint64_t high = at(2 + 1 + latch);
	cr_assert_eq(high, 50002431);
	cr_assert_eq(in(0x61, high - 1) & 0x20, 0);
	cr_assert_eq(in(0x61, high) & 0x21, 0x21);
	cr_assert_eq(irq_rises, 0, "OUT2 has no interrupt");
	/* Gate low: mode 0 stops counting, OUT keeps its level. */
	program(2, 0x00, 100, 60 * MS);
	uint64_t k = vpit_tick(60 * MS);
	out(0x61, 0x00, at(k + 41)); /* 40 counted */
	cr_assert_eq(read16(0x42, at(k + 5000)), 60);
	cr_assert_eq(in(0x61, at(k + 5000)) & 0x20, 0);
	out(0x61, 0x01, at(k + 5000));
	cr_assert_eq(in(0x61, at(k + 5000 + 60)) & 0x20, 0);
	cr_assert_eq(in(0x61, at(k + 5000 + 61)) & 0x20, 0x20, "the 60 left, one clock after the gate");
}

Test(vpit, count_zero_is_65536)
{
	setup(0);
	out(0x61, 0x01, 0);
	program(2, 0x00, 0, 0);
	cr_assert_eq(read16(0x42, at(1)), 0);
	cr_assert_eq(read16(0x42, at(2)), 0xffff);
	cr_assert_eq(in(0x61, at(65537) - 1) & 0x20, 0);
	cr_assert_eq(in(0x61, at(65537)) & 0x20, 0x20);
	program(0, 0x04, 0, SECOND);
	uint64_t k = vpit_tick(SECOND);
	cr_assert_eq(vpit_next_event(&pit, SECOND), at(k + 1 + 65536));
}

/* quick_pit_calibrate: counter 2 in mode 0 from 0xffff, MSB watched. */
Test(vpit, reads_decrease_monotonically)
{
	setup(0);
	out(0x61, 0x01, 0);
	program(2, 0x00, 0xffff, 0);
	uint16_t prev = 0xffff;
	cr_assert_eq(read16(0x42, 700), 0, "not loaded before the next clock");
	for (uint64_t t = 1000; t < 54 * MS; t += 997) {
		uint16_t v = read16(0x42, t);
		cr_assert_leq(v, prev, "at %lu ns", t);
		cr_assert_eq(v, 0xffff - (vpit_tick(t) - 1));
		prev = v;
	}
	cr_assert_lt(prev, 0x1000);
}

Test(vpit, mode3_square_wave)
{
	static const uint16_t odd_ce[] = { 4, 2, 0, 4, 2, 4, 2, 0 };
	static const bool odd_out[] = { 1, 1, 1, 0, 0, 1, 1, 1 };

	setup(0);
	out(0x61, 0x01, 0);
	program(2, 0x06, 5, 0); /* loaded at clock 1 */
	program(0, 0x06, 4, 0);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(read16(0x42, at(1 + i)), odd_ce[i], "clock %u", i);
		cr_assert_eq(!!(in(0x61, at(1 + i)) & 0x20), odd_out[i], "clock %u", i);
	}
	cr_assert_eq(read16(0x40, at(2)), 2);
	cr_assert_eq(read16(0x40, at(3)), 4);
	for (unsigned i = 1; i <= 5; i++) {
		cr_assert_eq(vpit_next_event(&pit, 0), at(1 + 4 * i));
		vpit_advance(&pit, at(1 + 4 * i));
	}
	cr_assert_eq(irq_rises, 5);
}

/* Modes 2 and 3: a count written while counting waits for the period (or
 * half cycle) to end. */
Test(vpit, new_count_waits_for_the_period)
{
	setup(0);
	program(0, 0x04, 1000, 0);
	out(0x40, 300 & 0xff, at(1 + 300));
	out(0x40, 300 >> 8, at(1 + 300));
	out(0x43, 0xe2, at(1 + 999));
	cr_assert_eq(in(0x40, at(1 + 999)) & 0x40, 0x40, "null count until the switch");
	cr_assert_eq(vpit_next_event(&pit, at(301)), at(1 + 1000));
	vpit_advance(&pit, at(1 + 1000));
	cr_assert_eq(read16(0x40, at(1 + 1000)), 300);
	cr_assert_eq(vpit_next_event(&pit, at(1001)), at(1 + 1300));
	vpit_advance(&pit, at(1 + 1300));
	cr_assert_eq(irq_rises, 2);
	/* Again, within the 300 period that began at clock 1601. */
	out(0x40, 200 & 0xff, at(1701));
	out(0x40, 200 >> 8, at(1701));
	cr_assert_eq(irq_rises, 3, "the write delivered the edge at 1601");
	cr_assert_eq(vpit_next_event(&pit, at(1701)), at(1901));
	vpit_advance(&pit, at(1901));
	cr_assert_eq(vpit_next_event(&pit, at(1901)), at(2101));
	/* Mode 3, written in a high half: the new count starts low. */
	out(0x61, 0x01, at(2000));
	program(2, 0x06, 100, at(2000));
	out(0x42, 10, at(2001 + 20));
	out(0x42, 0, at(2001 + 20));
	cr_assert_eq(read16(0x42, at(2001 + 49)), 2, "old sequence to the half cycle's end");
	cr_assert_eq(read16(0x42, at(2001 + 50)), 10);
	cr_assert_eq(in(0x61, at(2001 + 54)) & 0x20, 0, "low half of 10");
	cr_assert_eq(in(0x61, at(2001 + 55)) & 0x20, 0x20, "then high");
}

Test(vpit, gate_triggers_modes_1_and_5)
{
	setup(0);
	program(2, 0x02, 10, 0);
	cr_assert_eq(in(0x61, at(100)) & 0x20, 0x20, "mode 1 waits high for a trigger");
	out(0x43, 0xe8, at(100));
	cr_assert_eq(in(0x42, at(100)), 0x80 | 0x40 | 0x32, "null count until the trigger");
	out(0x61, 0x01, at(100));
	cr_assert_eq(in(0x61, at(101)) & 0x20, 0);
	cr_assert_eq(read16(0x42, at(105)), 6);
	out(0x61, 0x00, at(106));
	out(0x61, 0x01, at(106)); /* retrigger */
	cr_assert_eq(in(0x61, at(116)) & 0x20, 0);
	cr_assert_eq(in(0x61, at(117)) & 0x20, 0x20);
	program(2, 0x0a, 10, at(200));
	out(0x61, 0x00, at(200));
	out(0x61, 0x01, at(300));
	cr_assert_eq(in(0x61, at(310)) & 0x20, 0x20);
	cr_assert_eq(in(0x61, at(311)) & 0x20, 0, "mode 5 strobes at 0");
	cr_assert_eq(in(0x61, at(312)) & 0x20, 0x20);
	/* Mode 2 with the gate low holds OUT high; the gate restarts it. */
	out(0x61, 0x00, at(400));
	program(2, 0x04, 10, at(400));
	cr_assert_eq(in(0x61, at(1000)) & 0x20, 0x20);
	out(0x61, 0x01, at(1000));
	cr_assert_eq(read16(0x42, at(1001)), 10);
	cr_assert_eq(in(0x61, at(1010)) & 0x20, 0, "OUT low while the CE is 1");
	out(0x61, 0x00, at(1010));
	cr_assert_eq(in(0x61, at(1010)) & 0x20, 0x20, "gate low sets OUT high at once");
	/* Mode 3 likewise, from its low half. */
	out(0x61, 0x01, at(2000));
	program(2, 0x06, 10, at(2000));
	cr_assert_eq(in(0x61, at(2007)) & 0x20, 0);
	out(0x61, 0x00, at(2007));
	cr_assert_eq(in(0x61, at(2007)) & 0x20, 0x20);
	out(0x43, 0xe8, at(2008));
	cr_assert_eq(in(0x42, at(2008)), 0x80 | 0x36, "count loaded, OUT high");
}

Test(vpit, bcd_counting)
{
	setup(0);
	out(0x61, 0x01, 0);
	program(2, 0x01, 0x0100, 0); /* mode 0, BCD 100 */
	cr_assert_eq(read16(0x42, at(2)), 0x0099);
	cr_assert_eq(in(0x61, at(101)) & 0x20, 0x20);
	cr_assert_eq(read16(0x42, at(102)), 0x9999, "wraps to 9999");
	program(2, 0x01, 0x0000, at(200)); /* 0 is 10000 in BCD */
	uint64_t k = vpit_tick(at(200));
	cr_assert_eq(in(0x61, at(k + 10000)) & 0x20, 0);
	cr_assert_eq(in(0x61, at(k + 10001)) & 0x20, 0x20);
	cr_assert_eq(pit.bad_values, 0);
	program(2, 0x01, 0x00a0, at(20000));
	cr_assert_eq(pit.bad_values, 1);
}

Test(vpit, port_b)
{
	setup(0);
	out(0x61, 0xff, 0);
	cr_assert_eq(in(0x61, 0), 0x0f | 0x20, "bits 0-3 as written, OUT2 of mode 3 high");
	cr_assert_eq(in(0x61, at(18)) & 0xd0, 0x10, "refresh toggles every 18 clocks, 6-7 read 0");
	cr_assert_eq(in(0x61, at(36)) & 0x10, 0);
	cr_assert_eq(in(0x61, at(36) - 1) & 0x10, 0x10);
}

/* An edge due before a write is delivered by the write, even if the VM
 * did not call vpit_advance() in time. */
Test(vpit, write_delivers_what_was_due)
{
	setup(0);
	program(0, 0x04, 1000, 0);
	program(0, 0x04, 5000, at(1500));
	cr_assert_eq(irq_rises, 1);
	cr_assert_eq(vpit_next_event(&pit, at(1500)), at(vpit_tick(at(1500)) + 1 + 5000));
}

Test(vpit, control_word_raising_out0_is_an_edge)
{
	setup(0);
	program(0, 0x00, 1000, 0);
	out(0x43, 0x34, at(500));
	cr_assert_eq(irq_rises, 1, "mode 0's low OUT goes high");
	out(0x43, 0x34, at(600));
	cr_assert_eq(irq_rises, 1);
}

Test(vpit, bad_input)
{
	setup(0);
	cr_assert_eq(in(0x43, 0), 0xff);
	cr_assert_eq(vpit_read(&pit, 0x44, 1, 0), 0xff);
	cr_assert_eq(vpit_read(&pit, 0x40, 3, 0), UINT32_MAX);
	vpit_write(&pit, 0x62, 1, 0, 0);
	cr_assert_eq(vpit_read(&pit, 0x60, 2, 0), 0x20ff, "0x60 undecoded, 0x61 port B");
	cr_assert_eq(pit.bad_io, 5);
	out(0x43, 0xe3, 0); /* read-back with the reserved bit */
	cr_assert_eq(pit.bad_values, 1);
	program(0, 0x04, 1, 0); /* mode 2 count 1: illegal */
	cr_assert_eq(pit.bad_values, 2);
	cr_assert_eq(vpit_next_event(&pit, 0), UINT64_MAX, "no interrupt storm");
	vpit_advance(&pit, SECOND);
	cr_assert_eq(irq_rises, 0);
}
