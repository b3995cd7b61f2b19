#include "hv/vmx/vmx_bits.h"

#define AR_UNUSABLE (1u << 16)
#define ATTR_PRESENT 0x80u

uint32_t vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out)
{
	uint32_t must_be_one = (uint32_t)cap;
	uint32_t may_be_one = (uint32_t)(cap >> 32);
	uint32_t value = (want | must_be_one) & may_be_one;

	*out = value;
	return need & ~value;
}

uint64_t vmx_cr_real(const struct vmx_cr_rules *r, uint64_t guest_value)
{
	return (guest_value | r->fixed0) & r->fixed1;
}

uint64_t vmx_cr_host_mask(const struct vmx_cr_rules *r)
{
	/* Only the low 32 bits are architectural for the fixed MSRs' purpose;
	 * bits above stay reserved and owned by the host. */
	return (r->fixed0 | ~r->fixed1) & 0xffffffffull;
}

uint64_t vmx_cr_guest_view(uint64_t real, uint64_t shadow, uint64_t mask)
{
	return (real & ~mask) | (shadow & mask);
}

uint32_t vmx_ar_from_attr(uint16_t attr)
{
	uint32_t ar = (attr & 0xffu) | ((uint32_t)(attr & 0xf00u) << 4);

	if (!(attr & ATTR_PRESENT))
		ar |= AR_UNUSABLE;
	return ar;
}

uint16_t vmx_attr_from_ar(uint32_t ar)
{
	uint16_t attr = (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));

	if (ar & AR_UNUSABLE)
		attr &= (uint16_t)~ATTR_PRESENT;
	return attr;
}
