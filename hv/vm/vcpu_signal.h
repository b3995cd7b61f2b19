/* INIT and start-up IPIs as a vCPU acts on them (SDM vol. 3A 8.4, 9.1).
 * Its local APIC keeps what arrived (vlapic_take_init/_sipi); the VM
 * applies it before choosing a vCPU to run. */
#ifndef HV_VM_VCPU_SIGNAL_H
#define HV_VM_VCPU_SIGNAL_H

#include "hv/vm/vcpu.h"

/* The state INIT leaves (SDM table 9-1): real mode at F000:FFF0, general
 * registers 0 but EDX (the CPU signature), CR0 60000010h, EFER 0; MSRs,
 * the TSC and the FPU unchanged. An application processor then waits for
 * a start-up IPI; the BSP would run from the reset vector.
 * @pre the vCPU has its backend state (vcpu_create done) */
void vcpu_init_state(struct vcpu *v);
/* An application processor at power-on: the INIT state with power-on
 * MSRs and the VM's TSC offset, waiting for a start-up IPI.
 * @pre the vCPU's APIC is an AP's (vlapic_make_ap) */
void vcpu_power_on_ap(struct vcpu *v, uint64_t tsc_offset);
/* Applies an INIT, then a start-up IPI, that arrived for the vCPU. */
void vcpu_take_signals(struct vcpu *v);
/* A start-up IPI that reaches a CPU not waiting for one is ignored
 * (SDM 8.4.4.1): it is dropped at once unless an INIT before it will put
 * the vCPU in the waiting state. Called after every IPI the bus carried. */
void vcpu_drop_stale_sipi(struct vcpu *v);

#endif
