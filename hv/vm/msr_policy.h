/* The MSRs guests may touch: those the hardware keeps per guest are passed
 * through by the backend; the ones that reach here are emulated from this
 * table; any other read or write gets #GP, as on a CPU without the MSR.
 * EFER is here too, for both backends: one policy, one set of #GP rules. */
#ifndef HV_VM_MSR_POLICY_H
#define HV_VM_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct cpuid_host;

enum msr_verdict { MSR_OK, MSR_FAULT };

/* Power-on values of the emulated MSRs. */
void msr_guest_init(struct vcpu *v);
/* false: the access raises #GP in the guest. */
bool msr_guest_read(struct vcpu *v, uint32_t index, uint64_t *value);
/* RDPMC's counter `index` (ECX) as the guest's CPUID offers counters:
 * false for one it does not have (#GP). */
bool pmc_guest_read(struct vcpu *v, uint32_t index, uint64_t *value);

/* For msr_guest_read/write (msr_address.c): FS/GS bases, KERNEL_GS_BASE,
 * LSTAR, CSTAR, SYSENTER_ESP/EIP. False when index is none of them
 * (*handled false) or, for a write, the value is refused (#GP). */
bool msr_address_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool msr_address_write(struct vcpu *v, uint32_t index, uint64_t value, bool *handled);
bool msr_guest_write(struct vcpu *v, uint32_t index, uint64_t value);

/* The EFER bits a guest may set, from the CPUID it is shown. */
uint64_t efer_guest_allowed(const struct cpuid_host *host);
/* A WRMSR to EFER as the SDM and APM define it: reserved or unoffered bits
 * and an LME change while CR0.PG is set fault; LMA stays the CPU's. On
 * MSR_OK, *result is the new EFER. */
enum msr_verdict efer_guest_write(uint64_t current, uint64_t value, uint64_t cr0,
				  uint64_t allowed, uint64_t *result);

#endif
