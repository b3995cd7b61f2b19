/* The local APIC's enable states (IA32_APIC_BASE, the SVR's software
 * enable) and the messages it takes (destinations, delivery modes). */
#include <criterion/criterion.h>

#include "hv/vdev/vlapic.h"

#define GHZ 1000000000ull
#define BASE_RESET 0xfee00900ull /* 0xfee00000 | EN (bit 11) | BSP (bit 8) */

static struct vlapic l;

static void setup(void)
{
	vlapic_init(&l, 2, GHZ);
	cr_assert(vlapic_write(&l, APIC_SVR, 0x1ff, 0));
}

static uint32_t reg(uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	cr_assert(vlapic_read(&l, off, &v, 0), "register 0x%x not decoded", off);
	return v;
}

static struct apic_msg fixed(uint8_t vector, uint8_t dest, bool logical, bool level)
{
	return (struct apic_msg){ .vector = vector, .dest = dest, .dest_logical = logical,
				  .delivery = APIC_DM_FIXED, .level = level };
}

TestSuite(vlapic_base, .init = setup);

Test(vlapic_base, power_up_state)
{
	vlapic_init(&l, 2, GHZ);
	cr_assert_eq(vlapic_read_apic_base(&l), BASE_RESET);
	cr_assert_eq(reg(APIC_ID), 0x02000000);
	cr_assert_eq(reg(APIC_SVR), 0xff);
	cr_assert_eq(reg(APIC_DFR), 0xffffffffu);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x10000);
	cr_assert_eq(reg(APIC_LVT_LINT0), 0x10000);
	cr_assert_eq(reg(APIC_TMR), 0);
	cr_assert(vlapic_hw_enabled(&l));
	cr_assert_not(vlapic_enabled(&l), "software-disabled after reset");
}

Test(vlapic_base, relocation)
{
	cr_assert(vlapic_write_apic_base(&l, 0xfed00900, 36));
	cr_assert_eq(vlapic_read_apic_base(&l), 0xfed00900);
	cr_assert_eq(vlapic_mmio_base(&l), 0xfed00000);
	cr_assert(vlapic_claims(&l, 0xfed00000));
	cr_assert(vlapic_claims(&l, 0xfed00ff0));
	cr_assert_not(vlapic_claims(&l, 0xfed01000));
	cr_assert_not(vlapic_claims(&l, 0xfee00000));
	cr_assert_not(vlapic_claims(&l, 0xfecfffff));
	cr_assert_eq(reg(APIC_SVR), 0x1ff, "moving the page keeps the registers");
	cr_assert(vlapic_write_apic_base(&l, 0xfee00800, 36)); /* BSP is R/W */
	cr_assert_eq(vlapic_read_apic_base(&l), 0xfee00800);
}

Test(vlapic_base, writes_that_fault)
{
	cr_assert_not(vlapic_write_apic_base(&l, 0xfee00d00, 36), "EXTD: no x2APIC");
	cr_assert_not(vlapic_write_apic_base(&l, 0xfee00500, 36), "EXTD without EN");
	cr_assert_not(vlapic_write_apic_base(&l, 0xfee00901, 36), "bit 0 reserved");
	cr_assert_not(vlapic_write_apic_base(&l, 0xfee00980, 36), "bit 7 reserved");
	cr_assert_not(vlapic_write_apic_base(&l, 0xfee00b00, 36), "bit 9 reserved");
	cr_assert_not(vlapic_write_apic_base(&l, 0x10fee00900ull, 36), "bit 36 >= MAXPHYADDR");
	cr_assert(vlapic_write_apic_base(&l, 0x10fee00900ull, 40));
	cr_assert_eq(vlapic_mmio_base(&l), 0x10fee00000ull);
	cr_assert_not(vlapic_write_apic_base(&l, 1ull << 60 | BASE_RESET, 64),
		      "MAXPHYADDR is at most 52");
	cr_assert_not(vlapic_write_apic_base(&l, 1ull << 40 | BASE_RESET, 0),
		      "MAXPHYADDR is at least 32");
	cr_assert_eq(vlapic_read_apic_base(&l), 0x10fee00900ull, "a fault changes nothing");
	cr_assert(vlapic_hw_enabled(&l));
}

Test(vlapic_base, global_disable_resets_and_stops_decoding)
{
	uint32_t v;

	vlapic_write(&l, APIC_ID, 0x05000000, 0);
	vlapic_write(&l, APIC_TPR, 0x20, 0);
	vlapic_write(&l, APIC_LVT_TIMER, 0x30, 0);
	vlapic_write(&l, APIC_TIMER_INIT, 1000, 0);
	vlapic_raise_level(&l, 0x80, true);
	cr_assert(vlapic_write_apic_base(&l, 0xfee00100, 36));
	cr_assert_not(vlapic_hw_enabled(&l));
	cr_assert_not(vlapic_claims(&l, 0xfee00000));
	cr_assert_not(vlapic_read(&l, APIC_SVR, &v, 0));
	cr_assert_eq(v, 0);
	cr_assert_not(vlapic_write(&l, APIC_SVR, 0x1ff, 0));
	cr_assert_eq(l.bad_accesses, 2);
	cr_assert_eq(vlapic_pending(&l), -1);
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX, "the timer stopped");
	struct apic_msg m = fixed(0x90, 0xff, false, false);
	cr_assert_not(vlapic_is_target(&l, &m));
	cr_assert_not(vlapic_receive(&l, &m));
	/* Re-enabled: the power-up state, software-disabled. */
	cr_assert(vlapic_write_apic_base(&l, BASE_RESET, 36));
	cr_assert_eq(reg(APIC_ID), 0x02000000, "the hardware-assigned ID");
	cr_assert_eq(reg(APIC_SVR), 0xff);
	cr_assert_eq(reg(APIC_TPR), 0);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x10000);
	cr_assert_eq(reg(APIC_TIMER_INIT), 0);
	cr_assert_eq(reg(APIC_IRR + 0x40), 0);
	cr_assert_eq(reg(APIC_TMR + 0x40), 0);
}

Test(vlapic_base, software_disable_masks_the_lvt_and_refuses_interrupts)
{
	vlapic_write(&l, APIC_LVT_LINT1, 0x400, 0);
	vlapic_write(&l, APIC_LVT_TIMER, 0x30, 0);
	vlapic_raise(&l, 0x60);
	vlapic_write(&l, APIC_SVR, 0xff, 0);
	cr_assert_eq(reg(APIC_LVT_LINT1), 0x10400);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x10030);
	cr_assert_eq(reg(APIC_LVT_ERROR), 0x10000);
	vlapic_write(&l, APIC_LVT_TIMER, 0x31, 0);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x10031, "cannot unmask while disabled");
	cr_assert_not(vlapic_raise_level(&l, 0x50, false));
	cr_assert_eq(l.irqs_dropped, 1);
	cr_assert_eq(reg(APIC_IRR + 0x20), 0);
	cr_assert_eq(vlapic_pending(&l), 0x60, "pending interrupts are held");
	vlapic_write(&l, APIC_SVR, 0x1ff, 0);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x10031, "masks stay until software clears them");
	vlapic_write(&l, APIC_LVT_TIMER, 0x31, 0);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x31);
}

TestSuite(vlapic_msg, .init = setup);

Test(vlapic_msg, physical_destinations)
{
	struct apic_msg to2 = fixed(0x40, 2, false, false), to3 = fixed(0x40, 3, false, false);
	struct apic_msg all = fixed(0x40, 0xff, false, false);

	cr_assert(vlapic_is_target(&l, &to2));
	cr_assert_not(vlapic_is_target(&l, &to3));
	cr_assert(vlapic_is_target(&l, &all));
	vlapic_write(&l, APIC_ID, 0x03000000, 0);
	cr_assert(vlapic_is_target(&l, &to3));
	cr_assert_not(vlapic_is_target(&l, &to2));
}

Test(vlapic_msg, logical_flat_and_cluster)
{
	struct apic_msg m = fixed(0x40, 0x02, true, false);

	vlapic_write(&l, APIC_LDR, 0x02000000, 0);
	cr_assert(vlapic_is_target(&l, &m));
	m.dest = 0x03;
	cr_assert(vlapic_is_target(&l, &m));
	m.dest = 0x04;
	cr_assert_not(vlapic_is_target(&l, &m));
	vlapic_write(&l, APIC_DFR, 0x0fffffff, 0); /* cluster model */
	vlapic_write(&l, APIC_LDR, 0x21000000, 0); /* cluster 2, member bit 0 */
	m.dest = 0x21;
	cr_assert(vlapic_is_target(&l, &m));
	m.dest = 0x23;
	cr_assert(vlapic_is_target(&l, &m));
	m.dest = 0x11;
	cr_assert_not(vlapic_is_target(&l, &m), "another cluster");
	m.dest = 0x22;
	cr_assert_not(vlapic_is_target(&l, &m), "another member");
	m.dest = 0xff;
	cr_assert(vlapic_is_target(&l, &m));
	vlapic_write(&l, APIC_DFR, 0x5fffffff, 0); /* reserved model */
	m.dest = 0x21;
	cr_assert_not(vlapic_is_target(&l, &m));
}

Test(vlapic_msg, delivery_modes)
{
	struct apic_msg m = fixed(0x55, 2, false, true);

	cr_assert(vlapic_receive(&l, &m));
	cr_assert_eq(reg(APIC_IRR + 0x20), 1u << 21);
	cr_assert_eq(reg(APIC_TMR + 0x20), 1u << 21);
	m = (struct apic_msg){ .vector = 0x56, .delivery = APIC_DM_LOWEST };
	cr_assert(vlapic_receive(&l, &m));
	cr_assert_eq(reg(APIC_IRR + 0x20), 3u << 21);
	cr_assert_eq(reg(APIC_TMR + 0x20), 1u << 21);
	m = (struct apic_msg){ .delivery = APIC_DM_NMI };
	cr_assert(vlapic_receive(&l, &m));
	cr_assert(vlapic_take_nmi(&l));
	m.delivery = APIC_DM_INIT;
	cr_assert(vlapic_receive(&l, &m), "INIT is kept for the vCPU");
	cr_assert(vlapic_take_init(&l));
	cr_assert_not(vlapic_take_init(&l));
	m.delivery = APIC_DM_STARTUP;
	m.vector = 0x9a;
	cr_assert(vlapic_receive(&l, &m));
	cr_assert_eq(vlapic_take_sipi(&l), 0x9a);
	cr_assert_eq(vlapic_take_sipi(&l), -1);
	m.delivery = APIC_DM_EXTINT;
	cr_assert_not(vlapic_receive(&l, &m));
	m.delivery = 3;
	cr_assert_not(vlapic_receive(&l, &m));
	cr_assert_eq(l.msgs_ignored, 2);
	m = fixed(0x05, 2, false, false);
	cr_assert_not(vlapic_receive(&l, &m), "vectors 0-15 are illegal");
	cr_assert_eq(l.irqs_dropped, 1);
}
