/* Finds the TSC frequency: from CPUID where the CPU states it, else by
 * counting against the ACPI PM timer, else against PIT channel 2. */
#ifndef HV_X86_TSC_CALIBRATE_H
#define HV_X86_TSC_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>

/* tsc_zero: the TSC value that time_ns() reports as 0 (the boot). */
bool tsc_calibrate(uint16_t pm_timer_port, bool pm_timer_32bit, uint64_t tsc_zero);

#endif
