/* The ACPI PM block's state blob: round trips that keep registers, TMR_STS
 * timing and the SCI, every refusal rule, random activity. */
#include "hv/lib/muldiv.h"
#include "hv/vdev/vacpi_pm.h"
#include "state_test.h"

#define SEC 1000000000ull

enum { STS = 0, EN = 2, CNT = 4, TMR_DONE = 6, SCI_LEVEL = 14 };

static void record_sci(void *ctx, unsigned line, bool level)
{
	(void)line;
	st_note(ctx, 0x4000 | level);
}

static void record_sleep(void *ctx, unsigned slp_typ)
{
	st_note(ctx, 0x5000 | slp_typ);
}

static void fresh(struct vacpi_pm *pm, struct st_transcript *t)
{
	struct irq_line sci = { record_sci, t, 9 };

	vacpi_pm_init(pm, &sci, record_sleep, t, 0);
}

/* The power button pressed with its enable set (SCI high), the timer's
 * enable set, SLP_TYP and BM_RLD stored. */
static void busy(struct vacpi_pm *pm, uint64_t now)
{
	vacpi_pm_write(pm, 2, 2, ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_GBL, now);
	vacpi_pm_write(pm, 4, 2, 5u << 10 | ACPI_PM1_CNT_BM_RLD, now);
	vacpi_pm_raise(pm, ACPI_PM1_PWRBTN | ACPI_PM1_WAK, now);
}

static void drive(struct vacpi_pm *pm, struct st_transcript *t, uint64_t now)
{
	for (unsigned i = 0; i < 12; i++) {
		now += 100 * SEC;
		st_note(t, vacpi_pm_next_event(pm, now));
		vacpi_pm_advance(pm, now);
		for (unsigned off = 0; off < 12; off += 2)
			st_note(t, vacpi_pm_read(pm, off, 2, now));
		if (i == 2)
			vacpi_pm_write(pm, 0, 2, ACPI_PM1_PWRBTN, now); /* clear: SCI drops */
		if (i == 5)
			vacpi_pm_write(pm, 0, 2, ACPI_PM1_TMR, now);
		if (i == 9)
			vacpi_pm_write(pm, 4, 2, ACPI_PM1_CNT_SLP_EN | 7u << 10, now);
	}
}

Test(vacpi_pm_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vacpi_pm a, b;
	uint8_t blob[VACPI_PM_STATE_SIZE], again[VACPI_PM_STATE_SIZE];
	char err[160] = "";
	uint64_t now = 500 * SEC;

	fresh(&a, &ta);
	busy(&a, now);
	cr_assert(a.sci_level);
	cr_assert_eq(vacpi_pm_save(&a, blob, sizeof(blob)), VACPI_PM_STATE_SIZE);
	fresh(&b, &tb);
	b.odd_accesses = 4;
	cr_assert_eq(vacpi_pm_load(&b, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.odd_accesses, 4, "counters stay");
	cr_assert_eq(tb.n, 1);
	cr_assert_eq(tb.v[0], 0x4001, "the SCI is driven high");
	cr_assert_eq(vacpi_pm_save(&b, again, sizeof(again)), VACPI_PM_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VACPI_PM_STATE_SIZE);
	ta.n = tb.n = 0;
	drive(&a, &ta, now);
	drive(&b, &tb, now);
	st_assert_same(&ta, &tb);
}

Test(vacpi_pm_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vacpi_pm a, before;
	uint8_t blob[VACPI_PM_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t);
	cr_assert_eq(vacpi_pm_save(&a, blob, VACPI_PM_STATE_SIZE - 1), 0);
	cr_assert_eq(vacpi_pm_save(&a, blob, sizeof(blob)), VACPI_PM_STATE_SIZE);
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vacpi_pm_load(&a, blob, VACPI_PM_STATE_SIZE - 1, err, sizeof(err)), err,
			"vacpi_pm: state is 14 bytes, expected 15");
	st_assert_error(vacpi_pm_load(&a, blob, VACPI_PM_STATE_SIZE + 1, err, sizeof(err)), err,
			"vacpi_pm: state is 16 bytes, expected 15");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

static const struct st_case cases[] = {
	{ { { SCI_LEVEL, 1, 2 } }, "sci_level: 2 is not 0 or 1" },
	{ { { STS, 2, ACPI_PM1_GBL } }, "sts 0x0020: bits 0x0020 are never set by this model" },
	{ { { STS, 2, ACPI_PM1_BM | ACPI_PM1_TMR } },
	  "sts 0x0011: bits 0x0010 are never set by this model" },
	{ { { STS, 2, ACPI_PM1_PCIEXP_WAKE } }, "sts 0x4000: bits 0x4000 are never set" },
	{ { { STS, 2, 0x0002 } }, "sts 0x0002: bits 0x0002 are never set by this model" },
	{ { { EN, 2, 0x8001 } }, "en 0x8001: bits 0x8000 do not exist" },
	{ { { CNT, 2, ACPI_PM1_CNT_SCI_EN } }, "cnt 0x0001: bits 0x0001 are not stored" },
	{ { { CNT, 2, ACPI_PM1_CNT_SLP_EN } }, "cnt 0x2000: bits 0x2000 are not stored" },
	{ { { TMR_DONE, 8, 66030950515326657ull } },
	  "tmr_done 66030950515326657: past the VM clock's" },
	{ { { SCI_LEVEL, 1, 1 } }, "sci_level 1 but the enabled status is 0" },
	{ { { STS, 2, ACPI_PM1_RTC }, { EN, 2, ACPI_PM1_RTC } },
	  "sci_level 0 but the enabled status is 1" },
};

Test(vacpi_pm_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vacpi_pm src, dst, before;
	uint8_t base[VACPI_PM_STATE_SIZE], blob[VACPI_PM_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vacpi_pm_save(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t);
		busy(&dst, SEC);
		memcpy(&before, &dst, sizeof(dst));
		unsigned calls = t.n;
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vacpi_pm_load(&dst, blob, sizeof(blob), err, sizeof(err)), err,
				cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the device", i);
		cr_assert_eq(t.n, calls, "case %u drove the SCI", i);
	}
	/* Everything the registers keep, and the last count a VM clock reaches. */
	memcpy(blob, base, sizeof(blob));
	st_apply(blob, &(struct st_patch){ STS, 2, 0x8701 });
	st_apply(blob, &(struct st_patch){ EN, 2, 0x4721 });
	st_apply(blob, &(struct st_patch){ CNT, 2, 0x1c02 });
	uint64_t last = mul_div_u64(UINT64_MAX, VACPI_PM_TIMER_HZ, SEC);
	st_apply(blob, &(struct st_patch){ TMR_DONE, 8, last });
	st_apply(blob, &(struct st_patch){ SCI_LEVEL, 1, 1 });
	fresh(&dst, &t);
	cr_assert_eq(vacpi_pm_load(&dst, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
}

Test(vacpi_pm_state, random_activity_stays_loadable)
{
	struct st_transcript t = { 0 };
	struct vacpi_pm a, b;
	uint8_t blob[VACPI_PM_STATE_SIZE], again[VACPI_PM_STATE_SIZE];
	char err[160];
	uint64_t seed = 0xac91, now = 0;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		unsigned width = 1u << ((r >> 8) % 3), off = (unsigned)(r >> 12) % 12;
		now += (r >> 24) % (200 * SEC);
		t.n = 0;
		switch (r % 4) {
		case 0: vacpi_pm_write(&a, off, width, (uint32_t)(r >> 32), now); break;
		case 1: vacpi_pm_read(&a, off, width, now); break;
		case 2: vacpi_pm_raise(&a, (uint16_t)(r >> 32), now); break;
		default: vacpi_pm_advance(&a, now); break;
		}
		vacpi_pm_save(&a, blob, sizeof(blob));
		fresh(&b, &t);
		cr_assert_eq(vacpi_pm_load(&b, blob, sizeof(blob), err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vacpi_pm_save(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
