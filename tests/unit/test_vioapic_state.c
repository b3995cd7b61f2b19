/* The IOAPIC's state blob: round trips that keep registers, remote IRR and
 * the messages that follow, every refusal rule, random activity. */
#include "hv/vdev/vioapic.h"
#include "state_test.h"

#define IOREGSEL 0
#define ID 1
#define ARB_ID 2
#define PIN_LEVEL 3
#define REDIR(pin) (7 + 8 * (pin))

static bool accept_all = true;

static bool record_msg(void *ctx, const struct apic_msg *m)
{
	st_note(ctx, 0x10000u | (uint64_t)m->vector << 24 | (uint64_t)m->dest << 8 |
			     m->delivery << 4 | m->level << 1 | m->dest_logical);
	return accept_all;
}

static void fresh(struct vioapic *io, struct st_transcript *t)
{
	vioapic_init(io, record_msg, t);
	io->id = io->arb_id = 1; /* as the platform sets it */
}

static void reg_write(struct vioapic *io, uint8_t reg, uint32_t v)
{
	vioapic_write(io, VIOAPIC_IOREGSEL, 4, reg);
	vioapic_write(io, VIOAPIC_IOWIN, 4, v);
}

static uint32_t reg_read(struct vioapic *io, uint8_t reg)
{
	vioapic_write(io, VIOAPIC_IOREGSEL, 4, reg);
	return (uint32_t)vioapic_read(io, VIOAPIC_IOWIN, 4);
}

/* Pin 1 edge, pin 9 level (in service: remote IRR), pin 16 level active
 * low to a logical destination, pin 20 an NMI; ID 3; IOREGSEL left at
 * pin 9's high dword. */
static void busy(struct vioapic *io)
{
	reg_write(io, VIOAPIC_REG_ID, 3u << 24);
	reg_write(io, 0x10 + 2, 0x31);
	reg_write(io, 0x10 + 18, 0x8039);
	reg_write(io, 0x10 + 33, 0x03000000);
	reg_write(io, 0x10 + 32, 0xa950);
	reg_write(io, 0x10 + 40, 0x0402);
	vioapic_set_irq(io, 9, true);
	vioapic_set_irq(io, 16, true); /* active low: deasserted */
	vioapic_write(io, VIOAPIC_IOREGSEL, 1, 0x13);
}

static void drive(struct vioapic *io, struct st_transcript *t)
{
	st_note(t, vioapic_read(io, VIOAPIC_IOREGSEL, 4));
	st_note(t, vioapic_read(io, VIOAPIC_IOWIN, 4));
	for (uint8_t reg = 0; reg < 0x40; reg++)
		st_note(t, reg_read(io, reg));
	vioapic_eoi(io, 0x39);       /* pin 9 still high: sent again */
	vioapic_set_irq(io, 1, true); /* an edge */
	vioapic_set_irq(io, 16, false); /* asserted (active low) */
	vioapic_set_irq(io, 20, true);
	vioapic_write(io, VIOAPIC_EOIR, 4, 0x50);
	vioapic_set_irq(io, 9, false);
	vioapic_eoi(io, 0x39);
	st_note(t, reg_read(io, 0x10 + 18));
	st_note(t, reg_read(io, 0x10 + 32));
}

Test(vioapic_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vioapic a, b;
	uint8_t blob[VIOAPIC_STATE_SIZE], again[VIOAPIC_STATE_SIZE];
	char err[160] = "";

	fresh(&a, &ta);
	busy(&a);
	cr_assert(a.redir[9] & VIOAPIC_RTE_REMOTE_IRR);
	cr_assert_eq(vioapic_save(&a, blob, sizeof(blob)), VIOAPIC_STATE_SIZE);
	fresh(&b, &tb);
	b.messages = 5;
	tb.n = 0;
	cr_assert_eq(vioapic_load(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tb.n, 0, "loading sends nothing");
	cr_assert_eq(b.messages, 5, "counters stay");
	cr_assert_eq(b.ctx, &tb, "wiring stays");
	cr_assert_eq(vioapic_save(&b, again, sizeof(again)), VIOAPIC_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VIOAPIC_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta);
	drive(&b, &tb);
	st_assert_same(&ta, &tb);
	cr_assert_eq(ta.v[2], 3u << 24, "the ID register");
}

Test(vioapic_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vioapic a, before;
	uint8_t blob[VIOAPIC_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t);
	cr_assert_eq(vioapic_save(&a, blob, VIOAPIC_STATE_SIZE - 1), 0);
	cr_assert_eq(vioapic_save(&a, blob, sizeof(blob)), VIOAPIC_STATE_SIZE);
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vioapic_load(&a, blob, VIOAPIC_STATE_SIZE - 1, err, sizeof(err)), err,
			"vioapic: state is 198 bytes, expected 199");
	st_assert_error(vioapic_load(&a, blob, VIOAPIC_STATE_SIZE + 1, err, sizeof(err)), err,
			"vioapic: state is 200 bytes, expected 199");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

/* Against the reset state with ID 1: every entry masked (0x10000). */
static const struct st_case cases[] = {
	{ { { ID, 1, 0x10 }, { ARB_ID, 1, 0x10 } }, "id 0x10: the register keeps 4 bits" },
	{ { { ARB_ID, 1, 2 } }, "arb_id 0x02 differs from id 0x01" },
	{ { { PIN_LEVEL, 4, 0x01000000 } }, "pin_level 0x01000000: levels of pins past 23" },
	{ { { REDIR(3), 8, 0x11000 } }, "redir[3] 0x0000000000011000: delivery status set" },
	{ { { REDIR(5), 8, 0x30000 } }, "redir[5] 0x0000000000030000: reserved bits set" },
	{ { { REDIR(23), 8, 0x00ffffff00010000ull } },
	  "redir[23] 0x00ffffff00010000: reserved bits set" },
	{ { { REDIR(7), 8, 0x14000 } },
	  "redir[7] 0x0000000000014000: remote IRR on an edge-triggered entry" },
};

Test(vioapic_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vioapic src, dst, before;
	uint8_t base[VIOAPIC_STATE_SIZE], blob[VIOAPIC_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vioapic_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t);
		busy(&dst);
		memcpy(&before, &dst, sizeof(dst));
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vioapic_load(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the device", i);
	}
	/* What the register keeps loads: every writable bit, reserved delivery
	 * modes (written, then refused at send time), remote IRR on a level
	 * NMI entry (its mode changed after acceptance). */
	memcpy(blob, base, sizeof(blob));
	st_apply(blob, &(struct st_patch){ REDIR(0), 8, 0xff0000000001efffull });
	st_apply(blob, &(struct st_patch){ REDIR(1), 8, 0x0000000000004300ull | 1u << 15 });
	st_apply(blob, &(struct st_patch){ IOREGSEL, 1, 0xff });
	fresh(&dst, &t);
	cr_assert_eq(vioapic_load(&dst, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
}

Test(vioapic_state, random_activity_stays_loadable)
{
	struct st_transcript t = { 0 };
	struct vioapic a, b;
	uint8_t blob[VIOAPIC_STATE_SIZE], again[VIOAPIC_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x82093;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		uint32_t v = (uint32_t)(r >> 32);
		accept_all = (r >> 20) & 1;
		t.n = 0;
		switch (r % 6) {
		case 0: vioapic_write(&a, VIOAPIC_IOREGSEL, 1, (r >> 8) % 0x40); break;
		case 1: vioapic_write(&a, VIOAPIC_IOWIN, 4, v); break;
		case 2: vioapic_write(&a, VIOAPIC_EOIR, 4, (r >> 8) & 0xff); break;
		case 3: vioapic_read(&a, VIOAPIC_IOWIN, 4); break;
		default: vioapic_set_irq(&a, (unsigned)(r >> 8) % 24, (r >> 16) & 1); break;
		}
		vioapic_save(&a, blob, sizeof(blob));
		fresh(&b, &t);
		cr_assert_eq(vioapic_load(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vioapic_save(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
	accept_all = true;
}
