/* The 8259A pair's state blob: round trips that keep the behaviour, every
 * refusal rule, and loadable states along random guest activity. */
#include "hv/vdev/vpic.h"
#include "state_test.h"

enum { IRR, ISR, IMR, LINE, ELCR, VBASE, ICW1, ICW3, ICW4, STEP, LOWEST, READ_ISR, POLL,
       SMM, ROT };
#define M(field) (field)
#define S(field) (15 + (field))
#define INTR 30

static void record_intr(void *ctx, unsigned line, bool level)
{
	(void)line;
	st_note(ctx, 0x1000 | level);
}

static void fresh(struct vpic *p, struct st_transcript *t)
{
	struct irq_line intr = { record_intr, t, 0 };

	vpic_init(p, &intr);
}

static void out(struct vpic *p, uint16_t port, uint8_t v)
{
	vpic_write(p, port, 1, v);
}

/* Linux's initialisation, ELCR level on IRQ9/10, and a busy moment:
 * IRQ1 in service, IRQ3 requested, IRQ10's level high on a slave in
 * special mask mode, a poll waiting on the slave, ISR selected on the
 * master, rotation in AEOI armed. */
static void busy(struct vpic *p)
{
	static const uint16_t init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x4d1, 0x06 }, { 0x21, 0xe1 }, { 0xa1, 0xf9 },
	};

	for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		out(p, init[i][0], (uint8_t)init[i][1]);
	vpic_set_irq(p, 1, true);
	cr_assert_eq(vpic_acknowledge(p), 0x21);
	vpic_set_irq(p, 3, true);
	vpic_set_irq(p, 10, true);
	out(p, 0xa0, 0x68); /* OCW3: special mask mode */
	out(p, 0x20, 0x0b); /* OCW3: read ISR */
	out(p, 0x20, 0x80); /* OCW2: rotate in AEOI */
	out(p, 0xa0, 0x0c); /* OCW3: poll */
}

/* The same accesses, answers noted. */
static void drive(struct vpic *p, struct st_transcript *t)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };

	for (unsigned i = 0; i < 6; i++)
		st_note(t, vpic_read(p, ports[i], 1));
	st_note(t, vpic_output(p));
	for (unsigned i = 0; i < 3; i++)
		st_note(t, vpic_acknowledge(p));
	out(p, 0x20, 0x20);
	out(p, 0xa0, 0x20);
	vpic_set_irq(p, 10, false);
	vpic_set_irq(p, 4, true);
	vpic_set_irq(p, 11, true);
	for (unsigned i = 0; i < 6; i++)
		st_note(t, vpic_read(p, ports[i], 1));
	st_note(t, vpic_acknowledge(p));
	st_note(t, vpic_acknowledge(p));
}

Test(vpic_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vpic a, b;
	uint8_t blob[VPIC_STATE_SIZE], again[VPIC_STATE_SIZE];
	char err[128] = "";

	fresh(&a, &ta);
	busy(&a);
	cr_assert_eq(vpic_save(&a, blob, sizeof(blob)), VPIC_STATE_SIZE);
	fresh(&b, &tb);
	tb.n = 0;
	cr_assert_eq(vpic_load(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tb.n, 1, "INTR re-driven once");
	cr_assert_eq(tb.v[0], 0x1000u | a.intr);
	cr_assert_eq(vpic_save(&b, again, sizeof(again)), VPIC_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VPIC_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta);
	drive(&b, &tb);
	st_assert_same(&ta, &tb);
	cr_assert_geq(ta.n, 18u);
}

/* The destination's counters and wiring are its own. */
Test(vpic_state, load_keeps_counters_and_wiring)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vpic a, b;
	uint8_t blob[VPIC_STATE_SIZE];
	char err[128];

	fresh(&a, &ta);
	busy(&a);
	vpic_save(&a, blob, sizeof(blob));
	fresh(&b, &tb);
	b.bad_io = 7;
	cr_assert_eq(vpic_load(&b, blob, sizeof(blob), err, sizeof(err)), 0);
	cr_assert_eq(b.bad_io, 7);
	cr_assert_eq(b.intr_line.ctx, &tb);
}

Test(vpic_state, sizes)
{
	struct vpic a, b;
	struct st_transcript t = { 0 };
	uint8_t blob[VPIC_STATE_SIZE + 1] = { 0 };
	char err[128];

	fresh(&a, &t);
	cr_assert_eq(vpic_save(&a, blob, VPIC_STATE_SIZE - 1), 0);
	cr_assert_eq(vpic_save(&a, blob, sizeof(blob)), VPIC_STATE_SIZE);
	fresh(&b, &t);
	struct vpic before;
	memcpy(&before, &b, sizeof(b)); /* padding included: compared bytewise */
	st_assert_error(vpic_load(&b, blob, VPIC_STATE_SIZE - 1, err, sizeof(err)), err,
			"vpic: state is 30 bytes, expected 31");
	st_assert_error(vpic_load(&b, blob, VPIC_STATE_SIZE + 1, err, sizeof(err)), err,
			"vpic: state is 32 bytes, expected 31");
	cr_assert_arr_eq(&b, &before, sizeof(b));
}

static const struct st_case cases[] = {
	{ { { M(STEP), 1, 5 } }, "master init_step 5: not 0, 2, 3 or 4" },
	{ { { S(STEP), 1, 1 } }, "slave init_step 1: not 0, 2, 3 or 4" },
	{ { { M(ICW1), 1, 0x13 }, { M(STEP), 1, 3 } }, "master init_step 3 (ICW3) in single mode" },
	{ { { S(ICW1), 1, 0x10 }, { S(ICW4), 1, 0 }, { S(STEP), 1, 4 } },
	  "slave init_step 4 (ICW4) without IC4" },
	{ { { M(ICW1), 1, 0x01 } }, "master icw1 0x01: bit 4 clear" },
	{ { { M(VBASE), 1, 0x0b } }, "master vector_base 0x0b: bits 2-0 set" },
	{ { { S(ICW4), 1, 0x21 } }, "slave icw4 0x21: bits 7-5 set" },
	{ { { M(ICW1), 1, 0x10 } }, "master icw4 0x01 without IC4 in icw1" },
	{ { { S(ICW3), 1, 0x0a } }, "slave icw3 0x0a: a slave ID is 0-7" },
	{ { { M(LOWEST), 1, 8 } }, "master lowest 8: not an input 0-7" },
	{ { { M(ELCR), 1, 0x01 } }, "master elcr 0x01: edge-only inputs set as level" },
	{ { { S(ELCR), 1, 0x21 } }, "slave elcr 0x21: edge-only inputs set as level" },
	{ { { S(ELCR), 1, 0x02 }, { S(LINE), 1, 0x02 } },
	  "slave irr 0x00: level inputs disagree with line 0x02" },
	{ { { M(ELCR), 1, 0x08 }, { M(IRR), 1, 0x08 } },
	  "master irr 0x08: level inputs disagree with line 0x00" },
	{ { { M(READ_ISR), 1, 2 } }, "master read_isr: 2 is not 0 or 1" },
	{ { { M(POLL), 1, 3 } }, "master poll: 3 is not 0 or 1" },
	{ { { S(SMM), 1, 0x80 } }, "slave special_mask: 128 is not 0 or 1" },
	{ { { S(ROT), 1, 0xff } }, "slave rotate_on_aeoi: 255 is not 0 or 1" },
	{ { { INTR, 1, 2 } }, "intr: 2 is not 0 or 1" },
	{ { { M(LINE), 1, 0x04 } }, "master line bit 2 is 1 but the slave's INT is 0" },
	{ { { S(IMR), 1, 0x00 }, { S(IRR), 1, 0x01 } },
	  "master line bit 2 is 0 but the slave's INT is 1" },
	{ { { INTR, 1, 1 } }, "intr 1 but the master's INT is 0" },
	{ { { M(IMR), 1, 0x00 }, { M(IRR), 1, 0x01 } }, "intr 0 but the master's INT is 1" },
};

Test(vpic_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vpic src, dst;
	uint8_t base[VPIC_STATE_SIZE], blob[VPIC_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vpic_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t);
		busy(&dst);
		struct vpic before;
		memcpy(&before, &dst, sizeof(dst));
		unsigned calls = t.n;
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vpic_load(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the device", i);
		cr_assert_eq(t.n, calls, "case %u drove INTR", i);
	}
	fresh(&dst, &t);
	cr_assert_eq(vpic_load(&dst, base, sizeof(base), err, sizeof(err)), 0, "the base is valid");
}

/* Whatever a guest and its devices do, the state stays loadable and
 * survives a round trip byte for byte. */
Test(vpic_state, random_activity_stays_loadable)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	struct st_transcript t = { 0 };
	struct vpic a, b;
	uint8_t blob[VPIC_STATE_SIZE], again[VPIC_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x8259a;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		uint16_t port = ports[(r >> 8) % 6];
		switch (r % 8) {
		case 0: case 1: out(&a, port, (uint8_t)(r >> 16)); break;
		case 2: vpic_read(&a, port, 1); break;
		case 3: vpic_acknowledge(&a); break;
		default: vpic_set_irq(&a, (unsigned)(r >> 16) % 16, (r >> 24) & 1); break;
		}
		t.n = 0;
		vpic_save(&a, blob, sizeof(blob));
		fresh(&b, &t);
		cr_assert_eq(vpic_load(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vpic_save(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
