/* Guest FPU/SSE state. The hypervisor itself never uses the FPU (it is
 * built without SSE), so the registers hold the state of the vCPU that ran
 * last; it is saved only when another vCPU, or the firmware, needs them. */
#ifndef HV_X86_FPU_H
#define HV_X86_FPU_H

struct vcpu;

void fpu_init_state(struct vcpu *v);
/* Makes the registers hold v's state before it runs. */
void fpu_switch_to(struct vcpu *v);
/* Saves the live guest state, e.g. before calling UEFI runtime services. */
void fpu_save_live(void);
/* v goes away: drop it as the owner without saving. */
void fpu_forget(struct vcpu *v);

#endif
