#include <criterion/criterion.h>

#include "hv/vdev/vacpi_pm.h"

#define SEC 1000000000ull

struct sci_probe {
	bool level;
	unsigned rises;
};

static struct sci_probe sci;
static struct vacpi_pm pm;
static unsigned sleeps, last_slp_typ;

static void sci_set(void *ctx, unsigned line, bool level)
{
	struct sci_probe *p = ctx;

	cr_assert_eq(line, 9);
	if (level && !p->level)
		p->rises++;
	p->level = level;
}

static void on_sleep(void *ctx, unsigned slp_typ)
{
	cr_assert_eq(ctx, &pm);
	sleeps++;
	last_slp_typ = slp_typ;
}

static void start(uint64_t now)
{
	struct irq_line line = { sci_set, &sci, 9 };

	sci = (struct sci_probe){ 0 };
	sleeps = last_slp_typ = 0;
	vacpi_pm_init(&pm, &line, on_sleep, &pm, now);
}

Test(vacpi_pm, timer_counts_at_3_579545_mhz_over_32_bits)
{
	start(0);
	cr_assert(vacpi_pm_timer_is_32bit());
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, 0), 0);
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, 279), 0, "one tick is 279.365 ns");
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, 280), 1);
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, SEC), 3579545);
	cr_assert_eq(vacpi_pm_timer(1199864033277ull), 4);
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, 1199864033278ull), 5, "wraps at 2^32");
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, 1234567890123ull), 124224022);
	cr_assert_eq(pm.odd_accesses, 0);
	cr_assert_eq(pm.bad_accesses, 0);
}

Test(vacpi_pm, tmr_sts_when_bit_31_changes)
{
	const uint64_t t31 = 599932015941ull, t32 = 1199864031882ull; /* 2^31, 2^32 ticks */

	start(SEC);
	cr_assert_eq(vacpi_pm_next_event(&pm, SEC), UINT64_MAX, "TMR_EN clear");
	vacpi_pm_write(&pm, 2, 2, ACPI_PM1_TMR, SEC);
	cr_assert_eq(vacpi_pm_next_event(&pm, SEC), t31);
	vacpi_pm_advance(&pm, t31 - 1);
	cr_assert_not(sci.level);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, t31 - 1), 0);
	vacpi_pm_advance(&pm, t31);
	cr_assert(sci.level);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, t31), ACPI_PM1_TMR);
	cr_assert_eq(vacpi_pm_next_event(&pm, t31), UINT64_MAX, "status already set");
	vacpi_pm_write(&pm, 0, 2, ACPI_PM1_TMR, t31);
	cr_assert_not(sci.level);
	cr_assert_eq(vacpi_pm_next_event(&pm, t31), t32, "bit 31 falls at the wrap");
	/* Without TMR_EN the status still follows the timer, without an SCI. */
	vacpi_pm_write(&pm, 2, 2, 0, t31);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, t32), ACPI_PM1_TMR);
	cr_assert_not(sci.level);
	cr_assert_eq(sci.rises, 1);
}

Test(vacpi_pm, sci_follows_enabled_status_bits)
{
	start(0);
	cr_assert(vacpi_pm_raise(&pm, ACPI_PM1_PWRBTN, 10));
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, 10), ACPI_PM1_PWRBTN);
	cr_assert_not(sci.level, "PWRBTN_EN clear");
	vacpi_pm_write(&pm, 2, 2, 0xffff, 10);
	cr_assert_eq(vacpi_pm_read(&pm, 2, 2, 10), 0x4721, "TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP");
	cr_assert(sci.level);
	vacpi_pm_write(&pm, 0, 2, 0, 10); /* writing 0 clears nothing */
	cr_assert(sci.level);
	vacpi_pm_write(&pm, 0, 2, ACPI_PM1_PWRBTN, 10);
	cr_assert_not(sci.level);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, 10), 0);
	/* WAK_STS has no enable: it never raises the SCI. */
	cr_assert(vacpi_pm_raise(&pm, ACPI_PM1_WAK, 20));
	cr_assert_not(sci.level);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, 20), ACPI_PM1_WAK);
	/* The timer and global-lock status are not the platform's to raise. */
	cr_assert_not(vacpi_pm_raise(&pm, ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_RTC, 20));
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, 20), ACPI_PM1_WAK | ACPI_PM1_RTC);
	cr_assert(sci.level, "RTC_EN is set");
	vacpi_pm_write(&pm, 0, 2, 0xffff, 30);
	cr_assert_not(sci.level);
	cr_assert_eq(sci.rises, 2);
}

Test(vacpi_pm, pm1_cnt_sci_en_and_sleep_requests)
{
	start(0);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 2, 0), ACPI_PM1_CNT_SCI_EN, "always in ACPI mode");
	vacpi_pm_write(&pm, 4, 2, 0, 0);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 2, 0), ACPI_PM1_CNT_SCI_EN);
	/* ACPICA's sequence: SLP_TYP first, then SLP_TYP | SLP_EN. */
	vacpi_pm_write(&pm, 4, 2, 5 << 10, 0);
	cr_assert_eq(sleeps, 0);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 2, 0), 0x1401);
	vacpi_pm_write(&pm, 4, 2, 5 << 10 | ACPI_PM1_CNT_SLP_EN, 0);
	cr_assert_eq(sleeps, 1);
	cr_assert_eq(last_slp_typ, 5);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 2, 0), 0x1401, "SLP_EN reads 0");
	/* A byte write to the high half carries SLP_TYP and SLP_EN. */
	vacpi_pm_write(&pm, 5, 1, 0x20 | 3 << 2, 0);
	cr_assert_eq(sleeps, 2);
	cr_assert_eq(last_slp_typ, 3);
	vacpi_pm_write(&pm, 4, 2, ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_GBL_RLS | 0xc3f8, 0);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 2, 0), ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SCI_EN,
		     "GBL_RLS and reserved bits read 0");
	cr_assert_eq(pm.sleep_requests, 2);
}

Test(vacpi_pm, widths_holes_and_bad_accesses)
{
	start(0);
	vacpi_pm_raise(&pm, ACPI_PM1_PWRBTN | ACPI_PM1_WAK, 0);
	vacpi_pm_write(&pm, 2, 2, ACPI_PM1_GBL, 0);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 4, 0), 0x00208100, "STS | EN << 16");
	cr_assert_eq(vacpi_pm_read(&pm, 1, 1, 0), 0x81);
	vacpi_pm_write(&pm, 1, 1, 0x01, 0); /* clears PWRBTN (bit 8) only */
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, 0), ACPI_PM1_WAK);
	cr_assert_eq(pm.odd_accesses, 3);
	cr_assert_eq(pm.bad_accesses, 0);
	cr_assert_eq(vacpi_pm_read(&pm, 6, 2, 0), 0xffff);
	cr_assert_eq(vacpi_pm_read(&pm, 4, 4, 0), 0xffff0001, "PM1_CNT, then the hole");
	cr_assert_eq(vacpi_pm_read(&pm, 12, 1, 0), 0xff);
	vacpi_pm_write(&pm, 8, 4, 0x12345678, SEC);
	cr_assert_eq(vacpi_pm_read(&pm, 8, 4, SEC), 3579545, "the timer is read-only");
	cr_assert_eq(vacpi_pm_read(&pm, 0, 3, 0), 0xffffffff);
	vacpi_pm_write(&pm, 0, 8, 0xffffffff, SEC);
	cr_assert_eq(vacpi_pm_read(&pm, 0, 2, SEC), ACPI_PM1_WAK, "bad width: no effect");
	cr_assert_eq(pm.bad_accesses, 6);
	cr_assert_eq(vacpi_pm_read(&pm, 10, 2, SEC), 3579545 >> 16, "timer high half");
}
