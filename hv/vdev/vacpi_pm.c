#include "hv/vdev/vacpi_pm.h"

#include "hv/lib/muldiv.h"
#include "hv/lib/string.h"

#define NS_PER_SEC 1000000000ull
#define TMR_MSB_SHIFT 31 /* 32-bit timer: TMR_STS when bit 31 changes */

/* Status bits the hardware sets (write 1 to clear); bits 1-3, 6-7, 12-13
 * are reserved and bit 11 is "ignore": they read 0. */
#define STS_BITS (ACPI_PM1_TMR | ACPI_PM1_BM | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
		  ACPI_PM1_SLPBTN | ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE | ACPI_PM1_WAK)
#define EN_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
		 ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE)
/* Fixed events that raise the SCI when enabled (4.8.4.1: the status bits
 * that have an enable; PCIEXP_WAKE_DIS only gates wake, WAK_STS has none). */
#define SCI_BITS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define CNT_STORED (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP_MASK)
#define PLATFORM_EVENTS (ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC | ACPI_PM1_WAK)

enum pm_reg { REG_STS, REG_EN, REG_CNT, REG_TMR, REG_NONE };

struct reg_span {
	enum pm_reg reg;
	unsigned base, size;
};

static struct reg_span reg_at(unsigned offset)
{
	if (offset < 2)
		return (struct reg_span){ REG_STS, 0, 2 };
	if (offset < 4)
		return (struct reg_span){ REG_EN, 2, 2 };
	if (offset < 6)
		return (struct reg_span){ REG_CNT, 4, 2 };
	if (offset >= VACPI_PM_TMR_OFFSET && offset < VACPI_PM_SIZE)
		return (struct reg_span){ REG_TMR, VACPI_PM_TMR_OFFSET, 4 };
	return (struct reg_span){ REG_NONE, offset, 1 };
}

static uint64_t timer_count(uint64_t now_ns)
{
	return mul_div_u64(now_ns, VACPI_PM_TIMER_HZ, NS_PER_SEC);
}

uint32_t vacpi_pm_timer(uint64_t now_ns)
{
	return (uint32_t)timer_count(now_ns);
}

bool vacpi_pm_timer_is_32bit(void)
{
	return true;
}

static void update_sci(struct vacpi_pm *pm)
{
	bool level = pm->sts & pm->en & SCI_BITS; /* SCI_EN is always 1 */

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
}

static void sync(struct vacpi_pm *pm, uint64_t now_ns)
{
	uint64_t t = timer_count(now_ns);

	if (t > pm->tmr_done) {
		if (t >> TMR_MSB_SHIFT != pm->tmr_done >> TMR_MSB_SHIFT)
			pm->sts |= ACPI_PM1_TMR;
		pm->tmr_done = t;
	}
	update_sci(pm);
}

void vacpi_pm_init(struct vacpi_pm *pm, const struct irq_line *sci, vacpi_pm_sleep_fn sleep,
		   void *sleep_ctx, uint64_t now_ns)
{
	memset(pm, 0, sizeof(*pm));
	if (sci)
		pm->sci = *sci;
	pm->sleep = sleep;
	pm->sleep_ctx = sleep_ctx;
	pm->tmr_done = timer_count(now_ns);
}

void vacpi_pm_advance(struct vacpi_pm *pm, uint64_t now_ns)
{
	sync(pm, now_ns);
}

uint64_t vacpi_pm_next_event(const struct vacpi_pm *pm, uint64_t now_ns)
{
	(void)now_ns;
	if (!(pm->en & ACPI_PM1_TMR) || (pm->sts & ACPI_PM1_TMR))
		return UINT64_MAX;
	uint64_t toggle = ((pm->tmr_done >> TMR_MSB_SHIFT) + 1) << TMR_MSB_SHIFT;
	/* The first nanosecond at which the count reaches 'toggle'. */
	uint64_t ns = mul_div_u64(toggle, NS_PER_SEC, VACPI_PM_TIMER_HZ);
	return timer_count(ns) < toggle ? ns + 1 : ns;
}

bool vacpi_pm_raise(struct vacpi_pm *pm, uint16_t sts_bits, uint64_t now_ns)
{
	sync(pm, now_ns);
	pm->sts |= sts_bits & PLATFORM_EVENTS;
	update_sci(pm);
	return !(sts_bits & ~PLATFORM_EVENTS);
}

static uint32_t reg_value(const struct vacpi_pm *pm, enum pm_reg reg, uint64_t now_ns)
{
	switch (reg) {
	case REG_STS: return pm->sts;
	case REG_EN: return pm->en;
	case REG_CNT: return pm->cnt | ACPI_PM1_CNT_SCI_EN;
	case REG_TMR: return vacpi_pm_timer(now_ns);
	default: return 0xffffffffu;
	}
}

static bool width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4;
}

/* Counts an access that does not cover its first register exactly. */
static void note_width(struct vacpi_pm *pm, unsigned offset, unsigned width)
{
	struct reg_span s = reg_at(offset);

	if (s.reg != REG_NONE && (offset != s.base || width != s.size))
		pm->odd_accesses++;
}

uint32_t vacpi_pm_read(struct vacpi_pm *pm, unsigned offset, unsigned width, uint64_t now_ns)
{
	uint32_t v = 0;
	bool hole = false;

	if (!width_ok(width)) {
		pm->bad_accesses++;
		return 0xffffffffu;
	}
	sync(pm, now_ns);
	note_width(pm, offset, width);
	for (unsigned i = 0; i < width; i++) {
		struct reg_span s = reg_at(offset + i);
		uint32_t byte = reg_value(pm, s.reg, now_ns) >> (8 * (offset + i - s.base)) & 0xff;
		hole |= s.reg == REG_NONE;
		v |= byte << (8 * i);
	}
	if (hole)
		pm->bad_accesses++;
	return v;
}

static void write_cnt(struct vacpi_pm *pm, uint16_t value, uint16_t mask)
{
	pm->cnt = (uint16_t)((pm->cnt & ~mask) | (value & mask & CNT_STORED));
	if (!(value & mask & ACPI_PM1_CNT_SLP_EN))
		return;
	pm->sleep_requests++;
	if (pm->sleep)
		pm->sleep(pm->sleep_ctx, (pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >>
						 ACPI_PM1_CNT_SLP_TYP_SHIFT);
}

void vacpi_pm_write(struct vacpi_pm *pm, unsigned offset, unsigned width, uint32_t value,
		    uint64_t now_ns)
{
	uint16_t val[REG_NONE] = { 0 }, mask[REG_NONE] = { 0 };
	bool bad = false;

	if (!width_ok(width)) {
		pm->bad_accesses++;
		return;
	}
	sync(pm, now_ns);
	note_width(pm, offset, width);
	/* Sort the bytes into the registers they land in (byte enables). */
	for (unsigned i = 0; i < width; i++) {
		struct reg_span s = reg_at(offset + i);
		unsigned shift = 8 * (offset + i - s.base);
		if (s.reg == REG_NONE || s.reg == REG_TMR) {
			bad = true; /* a hole, or the read-only timer */
			continue;
		}
		val[s.reg] |= (uint16_t)((value >> (8 * i) & 0xff) << shift);
		mask[s.reg] |= (uint16_t)(0xff << shift);
	}
	pm->sts &= (uint16_t)~(val[REG_STS] & mask[REG_STS] & STS_BITS);
	pm->en = (uint16_t)((pm->en & ~mask[REG_EN]) | (val[REG_EN] & mask[REG_EN] & EN_BITS));
	if (mask[REG_CNT])
		write_cnt(pm, val[REG_CNT], mask[REG_CNT]);
	if (bad)
		pm->bad_accesses++;
	update_sci(pm);
}
