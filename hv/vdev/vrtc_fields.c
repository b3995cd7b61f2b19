/* Register encodings and the alarm comparison of the MC146818A model. */
#include "hv/vdev/vrtc_fields.h"

#define SECONDS_PER_DAY 86400
#define ALARM_DONT_CARE 0xc0 /* both top bits set: the field matches any value */

const uint8_t vrtc_time_registers[VRTC_TIME_REGISTER_COUNT] = {
	VRTC_SECONDS, VRTC_MINUTES, VRTC_HOURS, VRTC_DAY_OF_WEEK, VRTC_DAY_OF_MONTH,
	VRTC_MONTH, VRTC_YEAR, VRTC_CENTURY_INDEX,
};

/* ---- register encodings (register B: DM and 24/12) ---- */

uint8_t vrtc_to_reg(const struct vrtc *rtc, unsigned v)
{
	if (rtc->cmos[VRTC_REG_B] & VRTC_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/* 12-hour mode: 12 AM is 12, bit 7 marks PM. */
uint8_t vrtc_hour_to_reg(const struct vrtc *rtc, unsigned hour)
{
	if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
		return vrtc_to_reg(rtc, hour);
	unsigned h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(vrtc_to_reg(rtc, h12) | (hour >= 12 ? 0x80 : 0));
}

/* A register value in [lo, hi]; out-of-range values and BCD digits over 9
 * are clamped and reported through *bad. */
unsigned vrtc_from_reg(const struct vrtc *rtc, uint8_t v, unsigned lo, unsigned hi, bool *bad)
{
	unsigned n = v;

	if (!(rtc->cmos[VRTC_REG_B] & VRTC_B_DM_BINARY)) {
		if ((v & 0x0f) > 9 || v >> 4 > 9)
			*bad = true;
		n = (v >> 4) * 10u + (v & 0x0fu);
	}
	if (n < lo || n > hi) {
		*bad = true;
		return n < lo ? lo : hi;
	}
	return n;
}

unsigned vrtc_hour_from_reg(const struct vrtc *rtc, uint8_t v, bool *bad)
{
	if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
		return vrtc_from_reg(rtc, v, 0, 23, bad);
	return vrtc_from_reg(rtc, v & 0x7f, 1, 12, bad) % 12 + (v & 0x80 ? 12 : 0);
}

uint8_t vrtc_time_reg_value(const struct vrtc *rtc, unsigned index, const struct rtc_civil *c)
{
	switch (index) {
	case VRTC_SECONDS: return vrtc_to_reg(rtc, c->second);
	case VRTC_MINUTES: return vrtc_to_reg(rtc, c->minute);
	case VRTC_HOURS: return vrtc_hour_to_reg(rtc, c->hour);
	case VRTC_DAY_OF_WEEK: return vrtc_to_reg(rtc, (c->weekday + rtc->dow_offset) % 7 + 1);
	case VRTC_DAY_OF_MONTH: return vrtc_to_reg(rtc, c->day);
	case VRTC_MONTH: return vrtc_to_reg(rtc, c->month);
	case VRTC_YEAR: return vrtc_to_reg(rtc, c->year % 100);
	default: return vrtc_to_reg(rtc, c->year / 100); /* the century byte */
	}
}

bool vrtc_is_time_register(unsigned index)
{
	for (unsigned i = 0; i < VRTC_TIME_REGISTER_COUNT; i++)
		if (vrtc_time_registers[i] == index)
			return true;
	return false;
}

/* ---- alarm: hours, minutes and seconds each match or are don't-care ---- */

struct alarm_sets {
	bool hour[24], minute[60], second[60];
};

static bool alarm_field_matches(uint8_t alarm, uint8_t value)
{
	return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == value;
}

/* The chip compares register bytes, so each alarm byte is matched against
 * the encoding of every value. False when a field can never match. */
static bool alarm_sets_build(const struct vrtc *rtc, struct alarm_sets *a)
{
	const uint8_t *m = rtc->cmos;
	bool any_h = false, any_m = false, any_s = false;

	for (unsigned h = 0; h < 24; h++) {
		a->hour[h] = alarm_field_matches(m[VRTC_HOURS_ALARM], vrtc_hour_to_reg(rtc, h));
		any_h |= a->hour[h];
	}
	for (unsigned v = 0; v < 60; v++) {
		a->minute[v] = alarm_field_matches(m[VRTC_MINUTES_ALARM], vrtc_to_reg(rtc, v));
		a->second[v] = alarm_field_matches(m[VRTC_SECONDS_ALARM], vrtc_to_reg(rtc, v));
		any_m |= a->minute[v];
		any_s |= a->second[v];
	}
	return any_h && any_m && any_s;
}

/* The first second of the day at or after 'tod' that matches, or -1. */
static int32_t alarm_next_in_day(const struct alarm_sets *a, unsigned tod)
{
	unsigned h0 = tod / 3600, m0 = tod / 60 % 60, s0 = tod % 60;

	for (unsigned h = h0; h < 24; h++) {
		if (!a->hour[h])
			continue;
		for (unsigned m = h == h0 ? m0 : 0; m < 60; m++) {
			if (!a->minute[m])
				continue;
			for (unsigned s = h == h0 && m == m0 ? s0 : 0; s < 60; s++)
				if (a->second[s])
					return (int32_t)(h * 3600 + m * 60 + s);
		}
	}
	return -1;
}

/* The first time (Unix seconds) at or after 'from' the alarm matches. */
int64_t vrtc_alarm_next(const struct vrtc *rtc, int64_t from)
{
	struct alarm_sets a;

	if (!alarm_sets_build(rtc, &a))
		return INT64_MAX;
	unsigned tod = (unsigned)((from % SECONDS_PER_DAY + SECONDS_PER_DAY) % SECONDS_PER_DAY);
	int64_t midnight = from - tod;
	int32_t t = alarm_next_in_day(&a, tod);
	if (t >= 0)
		return midnight + t;
	return midnight + SECONDS_PER_DAY + alarm_next_in_day(&a, 0);
}
