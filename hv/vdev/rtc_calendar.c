#include "hv/vdev/rtc_calendar.h"

#define SECONDS_PER_DAY 86400
#define DAYS_PER_400_YEARS 146097
/* Days from 0000-01-01 to 1970-01-01 (proleptic Gregorian; year 0 is leap). */
#define EPOCH_DAYS 719528

static const uint16_t days_before_month[12] = {
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
};

bool rtc_cal_is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned rtc_cal_days_in_month(unsigned year, unsigned month)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[month - 1] + (month == 2 && rtc_cal_is_leap(year));
}

/* Days from 0000-01-01 to January 1st of 'y': 365 a year plus one for each
 * leap year in [0, y-1] (multiples of 4, less those of 100, plus those of
 * 400; year 0 is a multiple of all three). */
static int64_t days_before_year(int64_t y)
{
	return 365 * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

int64_t rtc_cal_days_from_civil(unsigned year, unsigned month, unsigned day)
{
	int64_t doy = days_before_month[month - 1] + (month > 2 && rtc_cal_is_leap(year)) + day - 1;

	return days_before_year(year) + doy - EPOCH_DAYS;
}

int64_t rtc_cal_seconds_from_civil(const struct rtc_civil *c)
{
	int64_t days = rtc_cal_days_from_civil(c->year, c->month, c->day);

	return days * SECONDS_PER_DAY + c->hour * 3600 + c->minute * 60 + c->second;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The year holding 'abs_day' (days since 0000-01-01): an estimate from the
 * mean Gregorian year, corrected by at most a step or two. */
static unsigned year_of_day(int64_t abs_day)
{
	int64_t y = abs_day * 400 / DAYS_PER_400_YEARS;

	while (days_before_year(y + 1) <= abs_day)
		y++;
	while (days_before_year(y) > abs_day)
		y--;
	return (unsigned)y;
}

void rtc_cal_civil_from_seconds(int64_t s, struct rtc_civil *c)
{
	const int64_t first = -(int64_t)EPOCH_DAYS * SECONDS_PER_DAY;
	const int64_t last_day = days_before_year(RTC_CAL_YEAR_MAX + 1) - EPOCH_DAYS - 1;
	const int64_t last = last_day * SECONDS_PER_DAY + SECONDS_PER_DAY - 1;

	s = s < first ? first : s > last ? last : s;
	int64_t days = floor_div(s, SECONDS_PER_DAY);
	unsigned tod = (unsigned)(s - days * SECONDS_PER_DAY);
	int64_t abs_day = days + EPOCH_DAYS;
	unsigned year = year_of_day(abs_day);
	unsigned doy = (unsigned)(abs_day - days_before_year(year));
	unsigned leap = rtc_cal_is_leap(year);
	unsigned month = 12;

	while (month > 1 && doy < days_before_month[month - 1] + (month > 2 ? leap : 0))
		month--;
	c->year = year;
	c->month = month;
	c->day = doy - days_before_month[month - 1] - (month > 2 ? leap : 0) + 1;
	c->hour = tod / 3600;
	c->minute = tod / 60 % 60;
	c->second = tod % 60;
	/* 1970-01-01 was a Thursday (4). */
	c->weekday = (unsigned)((days % 7 + 7 + 4) % 7);
}
