/* Finds the TSC frequency: from CPUID where the CPU states it, else by
 * counting against the ACPI PM timer, else against PIT channel 2. */
#ifndef HV_X86_TSC_CALIBRATE_H
#define HV_X86_TSC_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>

struct tsc_rate {
	uint64_t hz;        /* 0: no timer moved */
	const char *source; /* "cpuid", "acpi-pm-timer" or "pit" */
};

/* pm_timer_port 0: the firmware describes no ACPI PM timer. */
struct tsc_rate tsc_calibrate(uint16_t pm_timer_port, bool pm_timer_32bit);

#endif
