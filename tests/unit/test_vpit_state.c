/* The 8254's state blob: round trips that keep counts, OUT levels and IRQ0
 * edges, every refusal rule, and loadable states along random activity. */
#include "hv/vdev/vpit.h"
#include "state_test.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define K0 1193182ull /* irq_tick of the base state: vpit_init at 1 s */

/* Field offsets inside counter c's 60 bytes, and after the counters. */
enum { CONTROL = 0, CR = 1, WRITE_MSB = 4, READ_MSB = 5, HAS_COUNT = 6, GATE = 7, STATE = 8,
       RELOAD = 9, LOAD_TICK = 11, S0 = 19, HELD_OUT = 29, SWITCH_PENDING = 30,
       SWITCH_TICK = 31, SWITCH_S0 = 39, NULL_UNTIL = 47, COUNT_LATCHED = 55,
       STATUS_LATCHED = 56, LATCHED_STATUS = 59 };
#define C(n, field) (60 * (n) + (field))
#define PORT_B 180
#define IRQ_TICK 181

static void record_pulse(void *ctx, unsigned line, bool level)
{
	(void)line;
	if (level)
		st_note(ctx, 0x2000);
}

static void fresh(struct vpit *p, struct st_transcript *t, uint64_t now)
{
	struct irq_line irq0 = { record_pulse, t, 0 };

	vpit_init(p, &irq0, now);
}

static void out(struct vpit *p, uint16_t port, uint8_t v, uint64_t now)
{
	vpit_write(p, port, 1, v, now);
}

/* A busy PIT at 9 ms: counter 0 in mode 2 with a new count waiting for
 * the end of the period, counter 1's status and count latched and half
 * read, counter 2 gated on in mode 0 with only the LSB of its count. */
static void busy(struct vpit *p)
{
	out(p, 0x43, 0x34, 1 * MS);
	out(p, 0x40, 0xe8, 1 * MS);
	out(p, 0x40, 0x03, 1 * MS); /* 1000 */
	out(p, 0x40, 0x00, 9 * MS);
	out(p, 0x40, 0x02, 9 * MS); /* 512: from the next period on */
	out(p, 0x43, 0xc4, 9 * MS); /* read back counter 1: count and status */
	vpit_read(p, 0x41, 1, 9 * MS); /* the status */
	vpit_read(p, 0x41, 1, 9 * MS); /* the count's LSB */
	out(p, 0x61, 0x03, 9 * MS); /* gate 2, speaker */
	out(p, 0x43, 0xb0, 9 * MS);
	out(p, 0x42, 0x10, 9 * MS);
}

/* Reads and writes at later times, with the IRQ0 pulses in between. */
static void drive(struct vpit *p, struct st_transcript *t)
{
	uint64_t now = 10 * MS;

	for (unsigned i = 0; i < 40; i++) {
		now += 137 * 1000;
		st_note(t, vpit_next_event(p, now));
		vpit_advance(p, now);
		for (uint16_t port = 0x40; port <= 0x42; port++)
			st_note(t, vpit_read(p, port, 1, now));
		st_note(t, vpit_read(p, 0x61, 1, now));
		if (i == 10)
			out(p, 0x42, 0x27, now); /* counter 2's MSB: it starts */
		if (i == 20)
			out(p, 0x61, 0x00, now); /* gate 2 low */
		if (i == 30)
			out(p, 0x43, 0xe2, now); /* read back counter 0's status */
	}
}

Test(vpit_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vpit a, b;
	uint8_t blob[VPIT_STATE_SIZE], again[VPIT_STATE_SIZE];
	char err[160] = "";

	fresh(&a, &ta, 0);
	busy(&a);
	cr_assert(a.ch[0].switch_pending && a.ch[1].count_latched && a.ch[2].write_msb);
	cr_assert_eq(vpit_save(&a, blob, sizeof(blob)), VPIT_STATE_SIZE);
	fresh(&b, &tb, 0);
	b.irq_edges = 99;
	cr_assert_eq(vpit_load(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.irq_edges, 99, "counters stay");
	cr_assert_eq(vpit_save(&b, again, sizeof(again)), VPIT_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VPIT_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta);
	drive(&b, &tb);
	st_assert_same(&ta, &tb);
	unsigned pulses = 0;
	for (unsigned i = 0; i < ta.n; i++)
		pulses += ta.v[i] == 0x2000;
	cr_assert_gt(pulses, 5u, "IRQ0 pulses are part of the comparison");
}

Test(vpit_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vpit a;
	uint8_t blob[VPIT_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t, SEC);
	cr_assert_eq(vpit_save(&a, blob, VPIT_STATE_SIZE - 1), 0);
	cr_assert_eq(vpit_save(&a, blob, sizeof(blob)), VPIT_STATE_SIZE);
	struct vpit before;
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vpit_load(&a, blob, VPIT_STATE_SIZE - 1, err, sizeof(err)), err,
			"vpit: state is 188 bytes, expected 189");
	st_assert_error(vpit_load(&a, blob, VPIT_STATE_SIZE + 1, err, sizeof(err)), err,
			"vpit: state is 190 bytes, expected 189");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

/* Against the BIOS state at 1 s: counter 0 mode 3 (control 0x36, count 0),
 * counter 1 mode 2 (0x34, count 18), counter 2 mode 3 idle without count,
 * gate 2 low. */
static const struct st_case cases[] = {
	{ { { IRQ_TICK, 8, UINT64_MAX / 2 } },
	  "irq_tick 9223372036854775807: past the VM clock's range" },
	{ { { PORT_B, 1, 0x10 } }, "port_b 0x10: bits 7-4 are not stored" },
	{ { { C(0, CONTROL), 1, 0x76 } }, "counter 0 control 0x76: bits 7-6 are not kept" },
	{ { { C(1, CONTROL), 1, 0x04 } }, "counter 1 control 0x04: RW 0 is the latch command" },
	{ { { C(2, CONTROL), 1, 0x16 }, { C(2, WRITE_MSB), 1, 1 } },
	  "counter 2 write_msb without LSB/MSB access" },
	{ { { C(2, CONTROL), 1, 0x26 }, { C(2, READ_MSB), 1, 1 } },
	  "counter 2 read_msb without LSB/MSB access" },
	{ { { C(2, STATUS_LATCHED), 1, 1 }, { C(2, LATCHED_STATUS), 1, 0xb4 } },
	  "counter 2 latched_status 0xb4: not latched under control 0x36" },
	{ { { C(2, STATE), 1, 3 } }, "counter 2 state 3: not 0-2" },
	{ { { C(0, GATE), 1, 2 } }, "counter 0 gate: 2 is not 0 or 1" },
	{ { { C(1, HELD_OUT), 1, 5 } }, "counter 1 held_out: 5 is not 0 or 1" },
	{ { { C(2, COUNT_LATCHED), 1, 9 } }, "counter 2 count_latched: 9 is not 0 or 1" },
	{ { { C(1, SWITCH_PENDING), 1, 2 } }, "counter 1 switch_pending: 2 is not 0 or 1" },
	{ { { C(0, HAS_COUNT), 1, 7 } }, "counter 0 has_count: 7 is not 0 or 1" },
	{ { { C(0, GATE), 1, 0 } }, "counter 0 gate 0: tied high on a PC" },
	{ { { C(2, GATE), 1, 1 } }, "counter 2 gate 1: port_b bit 0 says otherwise" },
	{ { { C(2, STATE), 1, 1 } }, "counter 2 state 1 without a count" },
	{ { { C(2, HELD_OUT), 1, 0 } }, "counter 2 idle in mode 3 with held_out 0" },
	{ { { C(0, STATE), 1, 2 } }, "counter 0 suspended in mode 3 with gate 1" },
	{ { { C(2, CONTROL), 1, 0x32 }, { C(2, HAS_COUNT), 1, 1 }, { C(2, STATE), 1, 2 } },
	  "counter 2 suspended in mode 1 with gate 0" },
	{ { { C(2, HAS_COUNT), 1, 1 }, { C(2, STATE), 1, 2 }, { C(2, HELD_OUT), 1, 0 } },
	  "counter 2 suspended in mode 3 with OUT low" },
	{ { { C(2, HAS_COUNT), 1, 1 }, { C(2, STATE), 1, 1 } },
	  "counter 2 running in mode 3 with its gate low" },
	{ { { C(1, RELOAD), 2, 17 } }, "counter 1 reload 0x0011 differs from cr 0x0012" },
	{ { { C(0, CONTROL), 1, 0x30 }, { C(0, SWITCH_PENDING), 1, 1 } },
	  "counter 0 switch_pending in state 1, mode 0" },
	{ { { C(0, SWITCH_PENDING), 1, 1 }, { C(0, SWITCH_TICK), 8, K0 } },
	  "counter 0 switch_tick 1193182: not within a count after irq_tick 1193182" },
	{ { { C(0, SWITCH_PENDING), 1, 1 }, { C(0, SWITCH_TICK), 8, K0 + 65537 } },
	  "counter 0 switch_tick 1258719: not within a count after irq_tick 1193182" },
	{ { { C(0, SWITCH_PENDING), 1, 1 }, { C(0, SWITCH_TICK), 8, K0 + 10 },
	    { C(0, SWITCH_S0), 8, 5 } },
	  "counter 0 switch_s0 5: not 0 or mode 3's high half of the count" },
	{ { { C(1, SWITCH_PENDING), 1, 1 }, { C(1, SWITCH_TICK), 8, K0 + 10 },
	    { C(1, SWITCH_S0), 8, 9 } },
	  "counter 1 switch_s0 9: not 0 or mode 3's high half of the count" },
	{ { { C(1, LOAD_TICK), 8, K0 + 2 } },
	  "counter 1 load_tick 1193184: after irq_tick 1193182 + 1" },
	{ { { C(1, S0), 8, K0 + 1 + 32769 } },
	  "counter 1 s0 1225952: past irq_tick 1193182 + 1 + 32768" },
	{ { { C(2, NULL_UNTIL), 8, K0 + 65537 } },
	  "counter 2 null_until 1258719: past irq_tick 1193182 + 65536" },
};

Test(vpit_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vpit src, dst, before;
	uint8_t base[VPIT_STATE_SIZE], blob[VPIT_STATE_SIZE];
	char err[160];

	fresh(&src, &t, SEC);
	vpit_save(&src, base, sizeof(base));
	cr_assert_eq(src.irq_tick, K0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t, 0);
		busy(&dst);
		memcpy(&before, &dst, sizeof(dst));
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vpit_load(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the device", i);
	}
	fresh(&dst, &t, 0);
	cr_assert_eq(vpit_load(&dst, base, sizeof(base), err, sizeof(err)), 0, "%s", err);
}

/* The edges of what the checks allow are states the PIT can be in. */
Test(vpit_state, limits_that_load)
{
	static const struct st_case ok[] = {
		{ { { C(0, SWITCH_PENDING), 1, 1 }, { C(0, SWITCH_TICK), 8, K0 + 65536 },
		    { C(0, SWITCH_S0), 8, 32768 } } },
		{ { { C(1, LOAD_TICK), 8, K0 + 1 }, { C(1, S0), 8, K0 + 1 + 32768 },
		    { C(2, NULL_UNTIL), 8, K0 + 65536 } } },
		{ { { C(2, CONTROL), 1, 0x3e } } }, /* mode 7, kept as written: a mode 3 */
		{ { { PORT_B, 1, 0x0f }, { C(2, GATE), 1, 1 } } },
	};
	struct st_transcript t = { 0 };
	struct vpit src, dst;
	uint8_t base[VPIT_STATE_SIZE], blob[VPIT_STATE_SIZE];
	char err[160];

	fresh(&src, &t, SEC);
	vpit_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &ok[i]);
		fresh(&dst, &t, 0);
		cr_assert_eq(vpit_load(&dst, blob, sizeof(blob), err, sizeof(err)), 0, "%u: %s", i,
			     err);
	}
}

/* Random programming, gate changes, latches and reads over time: every
 * state on the way loads and survives a round trip byte for byte. */
Test(vpit_state, random_activity_stays_loadable)
{
	static const uint8_t modes[] = { 0x00, 0x02, 0x04, 0x06, 0x08, 0x0a, 0x0c, 0x0e };
	struct st_transcript t = { 0 };
	struct vpit a, b;
	uint8_t blob[VPIT_STATE_SIZE], again[VPIT_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x8254, now = 0;

	fresh(&a, &t, 0);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		uint8_t v = (uint8_t)(r >> 16);
		uint16_t counter = (uint16_t)((r >> 8) % 3);
		now += (r >> 40) % 4 ? (r >> 24) % 20000 : (r >> 24) % (60 * MS);
		switch (r % 10) {
		case 0: /* a control word: select, RW 1-3, any mode, BCD now and then */
			out(&a, 0x43, (uint8_t)(counter << 6 | ((v % 3) + 1) << 4 | modes[v >> 5] |
						 ((v & 8) && (v & 4) ? 1 : 0)), now);
			break;
		case 1: case 2: out(&a, (uint16_t)(0x40 + counter), v, now); break;
		case 3: out(&a, 0x43, v, now); break; /* latches, read-back, anything */
		case 4: out(&a, 0x61, v, now); break;
		case 5: case 6: vpit_read(&a, (uint16_t)(0x40 + counter), 1, now); break;
		default: vpit_advance(&a, now); break;
		}
		t.n = 0;
		vpit_save(&a, blob, sizeof(blob));
		fresh(&b, &t, 0);
		cr_assert_eq(vpit_load(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vpit_save(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
