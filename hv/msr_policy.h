/* The MSRs guests may touch: those the hardware keeps per guest are passed
 * through by the backend; the ones that reach here are emulated from this
 * table; any other read or write gets #GP, as on a CPU without the MSR. */
#ifndef HV_MSR_POLICY_H
#define HV_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Power-on values of the emulated MSRs. */
void msr_guest_init(struct vcpu *v);
bool msr_guest_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool msr_guest_write(struct vcpu *v, uint32_t index, uint64_t value);

#endif
