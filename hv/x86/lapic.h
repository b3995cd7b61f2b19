/* The host's local APIC (xAPIC MMIO or x2APIC MSRs, as the firmware left
 * it) and its timer, which drives the hypervisor's periodic tick. */
#ifndef HV_X86_LAPIC_H
#define HV_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

void lapic_init(void);
bool lapic_is_x2apic(void);
uint32_t lapic_id(void);
void lapic_eoi(void);

/* Measures the timer's input clock against the TSC, then starts a
 * periodic interrupt at 'hz' on 'vector'. Returns the timer clock in Hz. */
uint64_t lapic_timer_start(uint32_t hz, uint8_t vector);
uint64_t lapic_timer_hz(void);

#endif
