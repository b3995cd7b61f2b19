/* Pure VMX bit arithmetic, kept apart so it builds and is tested on the
 * host: control negotiation against capability MSRs, the fixed CR0/CR4
 * bits, segment access-rights conversion. */
#ifndef HV_VMX_VMX_BITS_H
#define HV_VMX_VMX_BITS_H

#include <stdint.h>

/* Negotiates a 32-bit control field against its capability MSR (low half:
 * bits that must be 1, high half: bits that may be 1). 'want' is wished
 * for, 'need' must be granted. Returns the bits of 'need' the CPU refuses
 * (0 on success) and stores the value to write in *out.
 * @pre need is a subset of want */
uint32_t vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out);

/* Control registers under VMX: fixed0 bits must be 1, bits clear in fixed1
 * must be 0. 'guest_owned' are fixed bits the guest may nonetheless clear
 * (CR0.PE/PG with unrestricted guest). */
struct vmx_cr_rules {
	uint64_t fixed0, fixed1;
};

/* The value the CPU runs with for what the guest asked for. */
uint64_t vmx_cr_real(const struct vmx_cr_rules *r, uint64_t guest_value);
/* Bits the guest must not own: reads come from the shadow, writes exit. */
uint64_t vmx_cr_host_mask(const struct vmx_cr_rules *r);
/* The guest's view: host-owned bits from the shadow, the rest real. */
uint64_t vmx_cr_guest_view(uint64_t real, uint64_t shadow, uint64_t mask);

/* Segment attributes between the packed 12-bit vcpu_segment form and the
 * VMCS access-rights field (a non-present segment is "unusable"). */
uint32_t vmx_ar_from_attr(uint16_t attr);
uint16_t vmx_attr_from_ar(uint32_t ar);

#endif
