/* The ACPI PM block's state blob (docs/device-state.md): status bits only
 * the model sets, enables and control bits the registers keep (vacpi_pm.c). */
#include "hv/vdev/vacpi_pm.h"

#include "hv/lib/muldiv.h"
#include "hv/vdev/vdev_state.h"

#define NS_PER_SEC 1000000000ull
/* Status bits the model can set: TMR_STS from the timer, and the platform's
 * events (vacpi_pm_raise). BM_STS, GBL_STS and PCIEXP_WAKE_STS exist (write
 * 1 to clear) but nothing here ever sets them. */
#define STS_SETTABLE (ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC | \
		      ACPI_PM1_WAK)
#define EN_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
		 ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE)
#define SCI_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
/* SCI_EN reads 1 always; SLP_EN and GBL_RLS are write-only. */
#define CNT_STORED (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP_MASK)

_Static_assert(VACPI_PM_STATE_SIZE == 3 * 2 + 8 + 1, "layout in docs/device-state.md");

size_t vacpi_pm_save(const struct vacpi_pm *pm, uint8_t *buf, size_t size)
{
	if (size < VACPI_PM_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VACPI_PM_STATE_SIZE);
	wput16(&w, pm->sts);
	wput16(&w, pm->en);
	wput16(&w, pm->cnt);
	wput64(&w, pm->tmr_done);
	wput8(&w, pm->sci_level);
	return VACPI_PM_STATE_SIZE;
}

int vacpi_pm_load(struct vacpi_pm *pm, const uint8_t *buf, size_t len, char *err,
		  size_t errlen)
{
	struct vdev_state_reader r;
	struct vacpi_pm next = *pm; /* wiring and counters stay */

	if (!vdev_state_begin(&r, "vacpi_pm", buf, len, VACPI_PM_STATE_SIZE, err, errlen))
		return -1;
	next.sts = wget16(&r.c);
	next.en = wget16(&r.c);
	next.cnt = wget16(&r.c);
	next.tmr_done = wget64(&r.c);
	next.sci_level = vdev_state_bool(&r, "sci_level");
	if (vdev_state_end(&r))
		return -1;
	vdev_state_check(&r, !(next.sts & ~STS_SETTABLE),
			 "sts 0x%04x: bits 0x%04x are never set by this model", next.sts,
			 next.sts & ~STS_SETTABLE);
	vdev_state_check(&r, !(next.en & ~EN_BITS), "en 0x%04x: bits 0x%04x do not exist",
			 next.en, next.en & ~EN_BITS);
	vdev_state_check(&r, !(next.cnt & ~CNT_STORED), "cnt 0x%04x: bits 0x%04x are not stored",
			 next.cnt, next.cnt & ~CNT_STORED);
	/* The timer counts from VM time 0: no VM clock reaches further. */
	uint64_t max_count = mul_div_u64(UINT64_MAX, VACPI_PM_TIMER_HZ, NS_PER_SEC);
	vdev_state_check(&r, next.tmr_done <= max_count,
			 "tmr_done %llu: past the VM clock's range",
			 (unsigned long long)next.tmr_done);
	/* The SCI is recomputed after every access, advance and raise. */
	bool sci = next.sts & next.en & SCI_BITS;
	vdev_state_check(&r, next.sci_level == sci, "sci_level %u but the enabled status is %u",
			 next.sci_level, sci);
	if (vdev_state_end(&r))
		return -1;
	*pm = next;
	irq_set(&pm->sci, pm->sci_level);
	return 0;
}
