#include <criterion/criterion.h>

#include "hv/vmx/vmx_bits.h"

/* Capability MSR layout: low half must-be-one, high half may-be-one. */
static uint64_t cap(uint32_t must_be_one, uint32_t may_be_one)
{
	return ((uint64_t)may_be_one << 32) | must_be_one;
}

Test(vmx_controls, forced_bits_are_added_and_refused_wishes_dropped)
{
	uint32_t out;
	uint32_t refused = vmx_adjust_controls(cap(0x16, 0x16 | 0x81 | 0x400), 0x81 | 0x200, 0x1, &out);

	cr_assert_eq(refused, 0);
	cr_assert_eq(out, 0x16 | 0x81, "got 0x%x", out); /* 0x200 not allowed: dropped */
}

Test(vmx_controls, a_required_bit_the_cpu_refuses_is_reported)
{
	uint32_t out;
	uint32_t refused = vmx_adjust_controls(cap(0, 0x0f), 0x12, 0x12, &out);

	cr_assert_eq(refused, 0x10);
	cr_assert_eq(out, 0x02);
}

Test(vmx_controls, true_controls_can_clear_default1_bits)
{
	uint32_t out;

	/* The same wish against a non-true MSR (CR3 exiting forced) and the
	 * true one (allowed to be 0). */
	vmx_adjust_controls(cap(0x0401e172, 0xfff9fffe), 0x80, 0x80, &out);
	cr_assert(out & (1u << 15), "default1 CR3-load exiting stays on");
	vmx_adjust_controls(cap(0x04006172, 0xfff9fffe), 0x80, 0x80, &out);
	cr_assert_not(out & (1u << 15), "true controls let it go");
}

/* CR0 as a CPU with unrestricted guest reports it: PE, NE, PG fixed to 1,
 * PE and PG released to the guest. */
static const struct vmx_cr_rules cr0_rules = { 0x80000021ull & ~0x80000001ull, 0xffffffffull };

Test(vmx_cr, the_guest_runs_with_fixed_bits_but_sees_its_own)
{
	uint64_t guest = 0x11; /* PE | ET, paging off, NE clear */
	uint64_t real = vmx_cr_real(&cr0_rules, guest);
	uint64_t mask = vmx_cr_host_mask(&cr0_rules);

	cr_assert_eq(real, 0x31, "NE forced on");
	cr_assert(mask & 0x20, "NE is host-owned");
	cr_assert_not(mask & 0x80000001ull, "PE/PG belong to the guest");
	cr_assert_eq(vmx_cr_guest_view(real, guest, mask), guest);
}

Test(vmx_cr, bits_beyond_fixed1_are_cleared_and_host_owned)
{
	const struct vmx_cr_rules cr4 = { 0x2000, 0x3727ff }; /* VMXE fixed, a few allowed */
	uint64_t real = vmx_cr_real(&cr4, 0x20 | 0x800000);  /* PAE and an unsupported bit */

	cr_assert_eq(real, 0x2020);
	cr_assert(vmx_cr_host_mask(&cr4) & 0x800000);
	cr_assert(vmx_cr_host_mask(&cr4) & 0x2000);
	cr_assert_not(vmx_cr_host_mask(&cr4) & 0x20);
	cr_assert_eq(vmx_cr_host_mask(&cr4) >> 32, 0, "only the low 32 bits are described");
}

Test(vmx_segments, flat_segments_round_trip)
{
	const uint16_t attrs[] = { 0xc9b, 0xc93, 0xa9b, 0x8b, 0x82, 0x0f3 };

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		uint32_t ar = vmx_ar_from_attr(attrs[i]);
		cr_assert_eq(vmx_attr_from_ar(ar), attrs[i], "attr 0x%x -> ar 0x%x", attrs[i], ar);
	}
	cr_assert_eq(vmx_ar_from_attr(0xc9b), 0xc09b);  /* G, D/B at bits 15, 14 */
	cr_assert_eq(vmx_ar_from_attr(0xa9b), 0xa09b);  /* L at bit 13 */
}

Test(vmx_segments, a_non_present_segment_is_unusable)
{
	cr_assert_eq(vmx_ar_from_attr(0), 1u << 16);
	cr_assert_eq(vmx_ar_from_attr(0x13) & (1u << 16), 1u << 16);
	cr_assert_eq(vmx_attr_from_ar((1u << 16) | 0x93), 0x13, "P cleared when unusable");
}
