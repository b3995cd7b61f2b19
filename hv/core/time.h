/* Monotonic time from the TSC, calibrated at boot, and the periodic tick. */
#ifndef HV_CORE_TIME_H
#define HV_CORE_TIME_H

#include <stdint.h>

/* Nanoseconds since the TSC was calibrated (0 before). */
uint64_t time_ns(void);
/* The same clock at an earlier or later TSC reading. */
uint64_t time_ns_at(uint64_t tsc);
uint64_t time_tsc_hz(void);
const char *time_calibration_source(void);

/* Converts a TSC delta to nanoseconds / a duration to TSC ticks. */
uint64_t time_tsc_to_ns(uint64_t tsc_delta);
uint64_t time_ns_to_tsc(uint64_t ns);

/* Called by the platform once calibration is done. */
void time_set_calibration(uint64_t tsc_hz, uint64_t tsc_at_zero, const char *source);

/* Periodic tick (the platform timer interrupt). */
uint64_t time_ticks(void);
uint32_t time_tick_hz(void);
void time_tick(void);
void time_set_tick_hz(uint32_t hz);

/* Work that must happen every tick even while a guest runs or a command
 * holds the CPU (the console feeding its UART). Runs in the timer
 * interrupt: keep it short. */
struct tick_hook {
	void (*fn)(void);
	struct tick_hook *next; /* the list's own */
};
/* @pre hook stays valid and is registered once */
void time_register_tick_hook(struct tick_hook *hook);

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull
#define NS_PER_US 1000ull

#endif
