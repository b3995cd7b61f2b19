/* The host's local APIC (xAPIC MMIO or x2APIC MSRs, as the firmware left
 * it) and its timer, which drives the hypervisor's periodic tick. */
#ifndef HV_X86_LAPIC_H
#define HV_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* The xAPIC register page to map before lapic_init(); 0 in x2APIC mode. */
uint64_t lapic_mmio_base(void);
void lapic_init(void);
bool lapic_is_x2apic(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* ICR low bits (SDM vol. 3 §10.6.1): delivery mode with level assert, and
 * the all-but-self shorthand. A fixed IPI ORs in its vector; a start-up
 * IPI the page number of its code. */
#define LAPIC_ICR_FIXED 0x4000u
#define LAPIC_ICR_INIT 0x4500u
#define LAPIC_ICR_STARTUP 0x4600u
#define LAPIC_ICR_ALL_BUT_SELF 0xc0000u

/* Sends an IPI: icr_low holds vector, delivery mode and level, to one
 * destination in physical mode. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

/* Measures the timer's input clock against the TSC (running at tsc_hz),
 * then starts a periodic interrupt at 'hz' on 'vector'. Returns the timer
 * clock in Hz, or 0 when the timer does not count (no tick then). */
uint64_t lapic_timer_start(uint32_t hz, uint8_t vector, uint64_t tsc_hz);

#endif
