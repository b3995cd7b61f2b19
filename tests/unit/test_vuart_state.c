/* The 16550A's extra state blob (lsr_errors, msr_delta, rbr, thre_int,
 * rx_loop_held): round trips on top of the UART record's registers and
 * queue, every refusal rule, random activity. */
#include "hv/vdev/vuart.h"
#include "state_test.h"

enum { LSR_ERRORS = 0, MSR_DELTA = 1, RBR = 2, THRE_INT = 3, RX_LOOP_HELD = 4 };
enum { R_DATA, R_IER, R_IIR, R_LCR, R_MCR, R_LSR, R_MSR, R_SCR };

static void record_level(void *ctx, unsigned line, bool level)
{
	(void)line;
	st_note(ctx, 0x7000 | level);
}

static void record_tx(void *ctx, uint8_t byte)
{
	st_note(ctx, 0x7100 | byte);
}

static void fresh(struct vuart *u, struct st_transcript *t)
{
	vuart_init(u, record_tx, t);
	vuart_set_irq(u, (struct irq_line){ record_level, t, 4 });
}

/* What the stream's UART record restores (migrate/vm_state.c): the
 * registers and the receive queue, oldest first. */
static void copy_record(struct vuart *dst, const struct vuart *src)
{
	dst->ier = src->ier, dst->lcr = src->lcr, dst->mcr = src->mcr, dst->scr = src->scr;
	dst->dll = src->dll, dst->dlm = src->dlm, dst->fcr = src->fcr;
	dst->rx_head = dst->rx_tail = 0;
	for (uint32_t i = src->rx_head; i != src->rx_tail; i++)
		dst->rx[dst->rx_tail++] = src->rx[i % VUART_RX_SIZE];
}

/* FIFOs on, every interrupt enabled, loopback with OUT2: 17 bytes looped
 * (the last overruns), two read, MSR deltas from the MCR change, 20
 * console bytes queued behind the chip, IIR read (THRE acknowledged). */
static void busy(struct vuart *u)
{
	vuart_write(u, R_IIR, 0xc1);
	vuart_write(u, R_IER, 0x0f);
	vuart_write(u, R_MCR, 0x19); /* RTS off: CTS drops, DCTS */
	for (unsigned i = 0; i < 17; i++)
		vuart_write(u, R_DATA, (uint8_t)('a' + i));
	vuart_read(u, R_DATA);
	vuart_read(u, R_DATA);
	for (unsigned i = 0; i < 20; i++)
		vuart_receive(u, (uint8_t)('A' + i));
	vuart_write(u, R_IER, 0x02);
	vuart_read(u, R_IIR);
	vuart_write(u, R_IER, 0x0f);
	vuart_read(u, R_IIR);
}

static void drive(struct vuart *u, struct st_transcript *t)
{
	for (unsigned i = 0; i < 40; i++) {
		st_note(t, vuart_read(u, R_IIR));
		st_note(t, vuart_read(u, R_LSR));
		st_note(t, vuart_read(u, R_MSR));
		st_note(t, vuart_read(u, R_DATA));
		if (i == 20)
			vuart_write(u, R_MCR, 0x08); /* out of loopback: the console's bytes flow */
		if (i == 30)
			vuart_write(u, R_DATA, 'z');
	}
}

Test(vuart_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vuart a, b;
	uint8_t blob[VUART_EXTRA_STATE_SIZE], again[VUART_EXTRA_STATE_SIZE];
	char err[160] = "";

	fresh(&a, &ta);
	busy(&a);
	cr_assert(a.lsr_errors && a.msr_delta && a.rx_loop_held == 14);
	cr_assert_eq(vuart_save_extra(&a, blob, sizeof(blob)), VUART_EXTRA_STATE_SIZE);
	fresh(&b, &tb);
	copy_record(&b, &a);
	tb.n = 0;
	cr_assert_eq(vuart_load_extra(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.irq_level, a.irq_level);
	cr_assert_eq(tb.n, a.irq_level ? 1u : 0u, "the line follows the loaded state");
	cr_assert_eq(vuart_save_extra(&b, again, sizeof(again)), VUART_EXTRA_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VUART_EXTRA_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta);
	drive(&b, &tb);
	st_assert_same(&ta, &tb);
}

Test(vuart_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vuart a, before;
	uint8_t blob[VUART_EXTRA_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t);
	cr_assert_eq(vuart_save_extra(&a, blob, VUART_EXTRA_STATE_SIZE - 1), 0);
	cr_assert_eq(vuart_save_extra(&a, blob, sizeof(blob)), VUART_EXTRA_STATE_SIZE);
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vuart_load_extra(&a, blob, VUART_EXTRA_STATE_SIZE - 1, err, sizeof(err)),
			err, "vuart: state is 7 bytes, expected 8");
	st_assert_error(vuart_load_extra(&a, blob, VUART_EXTRA_STATE_SIZE + 1, err, sizeof(err)),
			err, "vuart: state is 9 bytes, expected 8");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

/* Each case: the registers and queue the UART record restored (MCR, FCR,
 * bytes queued), then the blob's patches. */
static const struct {
	uint8_t mcr, fcr;
	unsigned queued;
	struct st_case c;
} cases[] = {
	{ 0, 0, 0, { { { THRE_INT, 1, 2 } }, "thre_int: 2 is not 0 or 1" } },
	{ 0, 0, 0, { { { LSR_ERRORS, 1, 0x04 } }, "lsr_errors 0x04: only OE is latched" } },
	{ 0, 0, 0, { { { LSR_ERRORS, 1, 0x82 } }, "lsr_errors 0x82: only OE is latched" } },
	{ 0, 0, 0, { { { MSR_DELTA, 1, 0x10 } }, "msr_delta 0x10: only bits 3-0 are deltas" } },
	{ 0x0f, 0xc1, 3, { { { RX_LOOP_HELD, 4, 1 } }, "rx_loop_held 1 outside loopback" } },
	{ 0x10, 0xc1, 3, { { { RX_LOOP_HELD, 4, 4 } },
	  "rx_loop_held 4: more than the chip holds (3 queued, depth 16)" } },
	{ 0x10, 0x00, 3, { { { RX_LOOP_HELD, 4, 2 } },
	  "rx_loop_held 2: more than the chip holds (3 queued, depth 1)" } },
	{ 0x10, 0xc1, 40, { { { RX_LOOP_HELD, 4, 17 } },
	  "rx_loop_held 17: more than the chip holds (40 queued, depth 16)" } },
};

static void restored(struct vuart *u, struct st_transcript *t, uint8_t mcr, uint8_t fcr,
		     unsigned queued)
{
	fresh(u, t);
	u->mcr = mcr;
	u->fcr = fcr;
	for (unsigned i = 0; i < queued; i++)
		u->rx[u->rx_tail++] = (uint8_t)i;
}

Test(vuart_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vuart src, dst, before;
	uint8_t base[VUART_EXTRA_STATE_SIZE], blob[VUART_EXTRA_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vuart_save_extra(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		restored(&dst, &t, cases[i].mcr, cases[i].fcr, cases[i].queued);
		memcpy(&before, &dst, sizeof(dst));
		unsigned calls = t.n;
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i].c);
		err[0] = 0;
		st_assert_error(vuart_load_extra(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].c.want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the UART", i);
		cr_assert_eq(t.n, calls, "case %u drove the line", i);
	}
	/* The largest counts the chip can hold load. */
	memcpy(blob, base, sizeof(blob));
	st_apply(blob, &(struct st_patch){ RX_LOOP_HELD, 4, 16 });
	st_apply(blob, &(struct st_patch){ LSR_ERRORS, 1, 0x02 });
	st_apply(blob, &(struct st_patch){ MSR_DELTA, 1, 0x0f });
	restored(&dst, &t, 0x10, 0xc1, 40);
	cr_assert_eq(vuart_load_extra(&dst, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
}

Test(vuart_state, random_activity_stays_loadable)
{
	struct st_transcript t = { 0 };
	struct vuart a, b;
	uint8_t blob[VUART_EXTRA_STATE_SIZE], again[VUART_EXTRA_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x16550;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		unsigned offset = (unsigned)(r >> 8) % 8;
		uint8_t v = (uint8_t)(r >> 16);
		t.n = 0;
		switch (r % 6) {
		case 0: case 1: vuart_write(&a, offset, v); break;
		case 2: vuart_write(&a, R_DATA, v); break;
		case 3: vuart_read(&a, offset); break;
		default: vuart_receive(&a, v); break;
		}
		vuart_save_extra(&a, blob, sizeof(blob));
		fresh(&b, &t);
		copy_record(&b, &a);
		cr_assert_eq(vuart_load_extra(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		cr_assert_eq(b.irq_level, a.irq_level, "step %u: the line", step);
		vuart_save_extra(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
