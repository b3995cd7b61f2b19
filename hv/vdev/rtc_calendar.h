/* Civil (proleptic Gregorian, UTC) dates and times from Unix seconds and
 * back, for the RTC model. Years 0-9999: what a two-digit year and a
 * two-digit century byte can name. No time zones, no leap seconds. */
#ifndef HV_VDEV_RTC_CALENDAR_H
#define HV_VDEV_RTC_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_CAL_YEAR_MAX 9999

struct rtc_civil {
	unsigned year;    /* 0-9999 */
	unsigned month;   /* 1-12 */
	unsigned day;     /* 1-31 */
	unsigned hour;    /* 0-23 */
	unsigned minute;  /* 0-59 */
	unsigned second;  /* 0-59 */
	unsigned weekday; /* 0 = Sunday ... 6 = Saturday */
};

bool rtc_cal_is_leap(unsigned year);
/* 28-31. @pre 1 <= month <= 12 */
unsigned rtc_cal_days_in_month(unsigned year, unsigned month);
/* Days since 1970-01-01 (negative before). @pre a valid date, year <= 9999 */
int64_t rtc_cal_days_from_civil(unsigned year, unsigned month, unsigned day);
/* Unix seconds of a valid date and time (weekday ignored). */
int64_t rtc_cal_seconds_from_civil(const struct rtc_civil *c);
/* The date and time at Unix seconds 's'. Outside years 0-9999 the year
 * saturates at the nearest end (the result is then 0000-01-01 00:00:00 or
 * 9999-12-31 23:59:59). */
void rtc_cal_civil_from_seconds(int64_t s, struct rtc_civil *c);

#endif
