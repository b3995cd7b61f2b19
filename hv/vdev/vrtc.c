#include "hv/vdev/vrtc.h"

#include "hv/lib/string.h"
#include "hv/vdev/rtc_calendar.h"
#include "hv/vdev/vrtc_fields.h"

#define TICKS_PER_SECOND ((uint64_t)VRTC_CHAIN_HZ)
/* UIP rises t_BUC = 244 us before the update (datasheet Table 6): 8 ticks
 * of the 32.768 kHz chain, 244.140625 us. */
#define UIP_TICKS 8
/* "When the divider reset is removed, the first update cycle begins
 * one-half second later." */
#define RESET_RELEASE_TICK (TICKS_PER_SECOND / 2)
/* One chain tick is 1e9 / 32768 ns = 1953125 / 64 ns exactly. */
#define NS_PER_64_TICKS 1953125u

static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_64_TICKS * 64 + ns % NS_PER_64_TICKS * 64 / NS_PER_64_TICKS;
}

/* The first VM nanosecond at which 'ticks' ticks have elapsed. */
static uint64_t ticks_to_ns_ceil(uint64_t ticks)
{
	return ticks / 64 * NS_PER_64_TICKS + (ticks % 64 * NS_PER_64_TICKS + 63) / 64;
}

static bool chain_running(const struct vrtc *rtc)
{
	return (rtc->cmos[VRTC_REG_A] & VRTC_A_DV_MASK) == VRTC_A_DV_32K;
}

static bool set_mode(const struct vrtc *rtc)
{
	return rtc->cmos[VRTC_REG_B] & VRTC_B_SET;
}

static uint64_t ticks_at(const struct vrtc *rtc, uint64_t now)
{
	if (!chain_running(rtc) || now <= rtc->chain_ref_ns)
		return rtc->chain_ref_tick;
	return rtc->chain_ref_tick + ns_to_ticks(now - rtc->chain_ref_ns);
}

/* Chain ticks between periodic flags, 0 for none. With a 32.768 kHz time
 * base, rates 1 and 2 select the same taps as 8 and 9 (256 and 128 Hz);
 * rates 3-15 give 32768 >> (rate - 1) Hz. */
static uint64_t periodic_ticks(const struct vrtc *rtc)
{
	unsigned rate = rtc->cmos[VRTC_REG_A] & VRTC_A_RS_MASK;

	if (rate == 0)
		return 0;
	if (rate <= 2)
		rate += 7;
	return 1ull << (rate - 1);
}

static int64_t shown_seconds(const struct vrtc *rtc, uint64_t tick)
{
	return rtc->seconds_at_tick0 + (int64_t)(tick / TICKS_PER_SECOND);
}

/* ---- the clock: frozen registers versus a running base ---- */

/* Copies the running time into the register bytes (SET, or a single write). */
static void freeze(struct vrtc *rtc, uint64_t tick)
{
	struct rtc_civil c;

	rtc_cal_civil_from_seconds(shown_seconds(rtc, tick), &c);
	for (unsigned i = 0; i < VRTC_TIME_REGISTER_COUNT; i++) {
		uint8_t index = vrtc_time_registers[i];
		rtc->cmos[index] = vrtc_time_reg_value(rtc, index, &c);
	}
}

static int64_t frozen_seconds(const struct vrtc *rtc, bool *bad)
{
	const uint8_t *m = rtc->cmos;
	struct rtc_civil c;

	c.second = vrtc_from_reg(rtc, m[VRTC_SECONDS], 0, 59, bad);
	c.minute = vrtc_from_reg(rtc, m[VRTC_MINUTES], 0, 59, bad);
	c.hour = vrtc_hour_from_reg(rtc, m[VRTC_HOURS], bad);
	c.month = vrtc_from_reg(rtc, m[VRTC_MONTH], 1, 12, bad);
	c.year = vrtc_from_reg(rtc, m[VRTC_CENTURY_INDEX], 0, 99, bad) * 100 +
		 vrtc_from_reg(rtc, m[VRTC_YEAR], 0, 99, bad);
	unsigned month_days = rtc_cal_days_in_month(c.year, c.month);
	c.day = vrtc_from_reg(rtc, m[VRTC_DAY_OF_MONTH], 1, month_days, bad);
	return rtc_cal_seconds_from_civil(&c);
}

/* The clock continues from the register bytes; the chain's phase is kept,
 * so the next update comes at the next second boundary of the chain. */
static void rebase(struct vrtc *rtc, uint64_t tick)
{
	bool bad = false;
	int64_t s = frozen_seconds(rtc, &bad);
	unsigned dow = vrtc_from_reg(rtc, rtc->cmos[VRTC_DAY_OF_WEEK], 1, 7, &bad);
	struct rtc_civil c;

	rtc->seconds_at_tick0 = s - (int64_t)(tick / TICKS_PER_SECOND);
	rtc_cal_civil_from_seconds(s, &c);
	rtc->dow_offset = (uint8_t)((dow - 1 + 7 - c.weekday) % 7);
	if (bad)
		rtc->bad_times++;
}

/* ---- events and IRQ8 ---- */

static void update_irq(struct vrtc *rtc)
{
	/* IRQF = PF.PIE + AF.AIE + UF.UIE: flags and enables share bit positions. */
	bool level = rtc->cmos[VRTC_REG_C] & rtc->cmos[VRTC_REG_B] & 0x70;

	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		irq_set(&rtc->irq, level);
	}
}

/* Flags for chain ticks (from, to]. Flags are set whatever the enables. */
static void apply_events(struct vrtc *rtc, uint64_t from, uint64_t to)
{
	uint64_t period = periodic_ticks(rtc);

	if (period && to / period > from / period)
		rtc->cmos[VRTC_REG_C] |= VRTC_C_PF;
	if (set_mode(rtc) || to / TICKS_PER_SECOND == from / TICKS_PER_SECOND)
		return;
	rtc->cmos[VRTC_REG_C] |= VRTC_C_UF;
	/* Each update compares the new time with the alarm. */
	if (vrtc_alarm_next(rtc, shown_seconds(rtc, from) + 1) <= shown_seconds(rtc, to))
		rtc->cmos[VRTC_REG_C] |= VRTC_C_AF;
}

static void sync(struct vrtc *rtc, uint64_t now)
{
	uint64_t t = ticks_at(rtc, now);

	if (t > rtc->tick_done) {
		apply_events(rtc, rtc->tick_done, t);
		rtc->tick_done = t;
	}
	update_irq(rtc);
}

void vrtc_advance(struct vrtc *rtc, uint64_t now_ns)
{
	sync(rtc, now_ns);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t vrtc_next_event(const struct vrtc *rtc, uint64_t now_ns)
{
	uint8_t b = rtc->cmos[VRTC_REG_B];
	uint64_t t = rtc->tick_done, period = periodic_ticks(rtc), next = UINT64_MAX;

	(void)now_ns; /* everything up to tick_done is applied; a due event returns a past time */
	if (rtc->irq_level || !chain_running(rtc))
		return UINT64_MAX;
	if ((b & VRTC_B_PIE) && period)
		next = (t / period + 1) * period;
	if (!(b & VRTC_B_SET) && (b & VRTC_B_UIE))
		next = min_u64(next, (t / TICKS_PER_SECOND + 1) * TICKS_PER_SECOND);
	if (!(b & VRTC_B_SET) && (b & VRTC_B_AIE)) {
		int64_t s = vrtc_alarm_next(rtc, shown_seconds(rtc, t) + 1);
		if (s != INT64_MAX)
			next = min_u64(next, (uint64_t)(s - rtc->seconds_at_tick0) *
						     TICKS_PER_SECOND);
	}
	if (next == UINT64_MAX)
		return UINT64_MAX;
	return rtc->chain_ref_ns + ticks_to_ns_ceil(next - rtc->chain_ref_tick);
}

/* ---- registers ---- */

void vrtc_init(struct vrtc *rtc, int64_t unix_seconds_at_base, uint64_t base_ns,
	       const struct irq_line *irq)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->cmos[VRTC_REG_A] = VRTC_A_DV_32K | 0x06;
	rtc->cmos[VRTC_REG_B] = VRTC_B_24H;
	rtc->seconds_at_tick0 = unix_seconds_at_base;
	rtc->chain_ref_ns = base_ns;
	if (irq)
		rtc->irq = *irq;
}

static void write_reg_a(struct vrtc *rtc, uint8_t v, uint64_t now)
{
	bool was_running = chain_running(rtc);

	rtc->cmos[VRTC_REG_A] = v & (uint8_t)~VRTC_A_UIP;
	if (was_running && !chain_running(rtc)) {
		rtc->chain_ref_tick = rtc->tick_done; /* the chain stops where it is */
		rtc->chain_ref_ns = now;
	} else if (!was_running && chain_running(rtc)) {
		/* Released from reset: half way through the current second. */
		rtc->chain_ref_tick = rtc->tick_done / TICKS_PER_SECOND * TICKS_PER_SECOND +
				      RESET_RELEASE_TICK;
		rtc->chain_ref_ns = now;
		rtc->tick_done = rtc->chain_ref_tick;
	}
}

static void write_reg_b(struct vrtc *rtc, uint8_t v)
{
	bool was_set = set_mode(rtc);

	if ((v & VRTC_B_SET) && !was_set)
		freeze(rtc, rtc->tick_done);
	if (v & VRTC_B_SET)
		v &= (uint8_t)~VRTC_B_UIE; /* datasheet: SET going high clears UIE */
	rtc->cmos[VRTC_REG_B] = v;
	if (was_set && !(v & VRTC_B_SET))
		rebase(rtc, rtc->tick_done);
}

static void write_time_register(struct vrtc *rtc, unsigned index, uint8_t v)
{
	if (set_mode(rtc)) {
		rtc->cmos[index] = v;
		return;
	}
	/* A running counter written in place: the others keep counting. */
	freeze(rtc, rtc->tick_done);
	rtc->cmos[index] = v;
	rebase(rtc, rtc->tick_done);
}

static void write_data(struct vrtc *rtc, uint8_t v, uint64_t now)
{
	unsigned i = rtc->index;

	switch (i) {
	case VRTC_REG_A: write_reg_a(rtc, v, now); break;
	case VRTC_REG_B: write_reg_b(rtc, v); break;
	case VRTC_REG_C:
	case VRTC_REG_D: rtc->bad_accesses++; break; /* read-only */
	default:
		if (vrtc_is_time_register(i))
			write_time_register(rtc, i, v);
		else
			rtc->cmos[i] = v;
	}
}

static uint8_t read_data(struct vrtc *rtc)
{
	unsigned i = rtc->index;
	uint8_t v;

	switch (i) {
	case VRTC_REG_A:
		v = rtc->cmos[VRTC_REG_A];
		if (chain_running(rtc) && !set_mode(rtc) &&
		    rtc->tick_done % TICKS_PER_SECOND >= TICKS_PER_SECOND - UIP_TICKS)
			v |= VRTC_A_UIP;
		return v;
	case VRTC_REG_C:
		v = rtc->cmos[VRTC_REG_C];
		if (v & rtc->cmos[VRTC_REG_B] & 0x70)
			v |= VRTC_C_IRQF;
		rtc->cmos[VRTC_REG_C] = 0;
		return v;
	case VRTC_REG_D:
		return VRTC_D_VRT;
	}
	if (vrtc_is_time_register(i) && !set_mode(rtc)) {
		struct rtc_civil c;
		rtc_cal_civil_from_seconds(shown_seconds(rtc, rtc->tick_done), &c);
		return vrtc_time_reg_value(rtc, i, &c);
	}
	return rtc->cmos[i];
}

uint8_t vrtc_read(struct vrtc *rtc, unsigned offset, uint64_t now_ns)
{
	if (offset != 1) {
		if (offset != 0)
			rtc->bad_accesses++;
		return 0xff;
	}
	sync(rtc, now_ns);
	uint8_t v = read_data(rtc);
	update_irq(rtc);
	return v;
}

void vrtc_write(struct vrtc *rtc, unsigned offset, uint8_t value, uint64_t now_ns)
{
	if (offset == 0) {
		rtc->index = value & 0x7f;
		rtc->nmi_disabled = value & 0x80;
		return;
	}
	if (offset != 1) {
		rtc->bad_accesses++;
		return;
	}
	sync(rtc, now_ns);
	write_data(rtc, value, now_ns);
	update_irq(rtc);
}

bool vrtc_cmos_set(struct vrtc *rtc, unsigned index, uint8_t value)
{
	if (index < VRTC_RAM_FIRST || index >= VRTC_CMOS_SIZE || index == VRTC_CENTURY_INDEX)
		return false;
	rtc->cmos[index] = value;
	return true;
}

int64_t vrtc_unix_time(struct vrtc *rtc, uint64_t now_ns)
{
	bool bad = false;

	sync(rtc, now_ns);
	return set_mode(rtc) ? frozen_seconds(rtc, &bad) : shown_seconds(rtc, rtc->tick_done);
}
