/* For vrtc.c: the time and alarm registers' encodings (register B's DM and
 * 24/12 bits) and the alarm comparison. */
#ifndef HV_VDEV_VRTC_FIELDS_H
#define HV_VDEV_VRTC_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vdev/rtc_calendar.h"
#include "hv/vdev/vrtc.h"

#define VRTC_TIME_REGISTER_COUNT 8

/* The registers that hold the time: 0x00, 0x02, 0x04, 0x06-0x09, 0x32. */
extern const uint8_t vrtc_time_registers[VRTC_TIME_REGISTER_COUNT];
bool vrtc_is_time_register(unsigned index);

/* A value (0-99) as BCD or binary. */
uint8_t vrtc_to_reg(const struct vrtc *rtc, unsigned v);
/* An hour (0-23) as the hours register holds it (12-hour: PM in bit 7). */
uint8_t vrtc_hour_to_reg(const struct vrtc *rtc, unsigned hour);
/* A register's value clamped into [lo, hi]; *bad is set when it had to be,
 * or when a BCD digit is over 9 (and left alone otherwise). */
unsigned vrtc_from_reg(const struct vrtc *rtc, uint8_t v, unsigned lo, unsigned hi, bool *bad);
unsigned vrtc_hour_from_reg(const struct vrtc *rtc, uint8_t v, bool *bad);
/* What time register 'index' reads at civil time 'c'. */
uint8_t vrtc_time_reg_value(const struct vrtc *rtc, unsigned index, const struct rtc_civil *c);

/* The first time (Unix seconds) at or after 'from' that matches the alarm
 * registers, or INT64_MAX if they can never match. */
int64_t vrtc_alarm_next(const struct vrtc *rtc, int64_t from);

#endif
