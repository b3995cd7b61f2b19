/* The local APIC beyond the basics in test_vdev.c: TSC-deadline timer,
 * trigger modes and EOI broadcast, LINT0/LINT1, IA32_APIC_BASE, software
 * disable, message destinations. The TSC runs at 1 GHz: one tick per ns. */
#include <criterion/criterion.h>

#include "hv/vdev/vlapic.h"

#define GHZ 1000000000ull

static struct vlapic l;
static uint8_t eois[8];
static unsigned neois;

static void record_eoi(void *ctx, uint8_t vector)
{
	cr_assert_eq(ctx, &l);
	eois[neois++ % 8] = vector;
}

static void setup(void)
{
	vlapic_init(&l, 0, GHZ);
	vlapic_set_eoi_broadcast(&l, record_eoi, &l);
	neois = 0;
	cr_assert(vlapic_write(&l, APIC_SVR, 0x1ff, 0));
}

static uint32_t reg(uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	cr_assert(vlapic_read(&l, off, &v, 0), "register 0x%x not decoded", off);
	return v;
}

static void deadline_mode(uint32_t vector)
{
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, APIC_LVT_TSC_DEADLINE | vector, 0));
}

TestSuite(vlapic_deadline, .init = setup);

Test(vlapic_deadline, fires_when_the_guest_tsc_reaches_the_value)
{
	vlapic_set_tsc_offset(&l, 1000, 0); /* guest TSC = host + 1000 */
	deadline_mode(0x40);
	vlapic_write_tsc_deadline(&l, 6000, 100);
	cr_assert_eq(l.timer_deadline, 5000, "guest 6000 is host 5000");
	cr_assert_eq(vlapic_next_event(&l), 5000);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 200), 6000);
	vlapic_tick(&l, 4999);
	cr_assert_eq(vlapic_pending(&l), -1);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 4999), 6000);
	vlapic_tick(&l, 5000);
	cr_assert_eq(vlapic_pending(&l), 0x40);
	cr_assert_eq(l.timer_fired, 1);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 5000), 0, "the MSR clears when it fires");
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
	vlapic_tick(&l, 100000);
	cr_assert_eq(l.timer_fired, 1, "one write, at most one interrupt");
}

Test(vlapic_deadline, a_read_after_the_deadline_fires_and_reads_0)
{
	deadline_mode(0x41);
	vlapic_write_tsc_deadline(&l, 3000, 1000);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 3000), 0);
	cr_assert_eq(vlapic_pending(&l), 0x41);
}

Test(vlapic_deadline, a_past_deadline_fires_at_once)
{
	/* The guest's TSC is 1,000,000 ahead: a value below the offset is in
	 * the past (a naive value - offset would wrap to the far future). */
	vlapic_set_tsc_offset(&l, 1000000, 10);
	deadline_mode(0x42);
	vlapic_write_tsc_deadline(&l, 500, 10);
	cr_assert_eq(vlapic_pending(&l), 0x42);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 10), 0);
	cr_assert_eq(l.timer_fired, 1);
}

Test(vlapic_deadline, guest_tsc_behind_the_host)
{
	vlapic_set_tsc_offset(&l, (uint64_t)0 - 1000000, 2000000); /* guest = host - 1e6 */
	deadline_mode(0x43);
	vlapic_write_tsc_deadline(&l, 1500000, 2000000);
	cr_assert_eq(l.timer_deadline, 2500000);
	vlapic_tick(&l, 2499999);
	cr_assert_eq(vlapic_pending(&l), -1);
	vlapic_tick(&l, 2500000);
	cr_assert_eq(vlapic_pending(&l), 0x43);
}

Test(vlapic_deadline, zero_disarms_and_rewrites_move_the_deadline)
{
	deadline_mode(0x44);
	vlapic_write_tsc_deadline(&l, 9000, 0);
	vlapic_write_tsc_deadline(&l, 0, 100);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 100), 0);
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
	vlapic_tick(&l, 20000);
	cr_assert_eq(l.timer_fired, 0);
	vlapic_write_tsc_deadline(&l, 30000, 20000);
	vlapic_write_tsc_deadline(&l, 25000, 20000); /* earlier */
	cr_assert_eq(vlapic_next_event(&l), 25000);
	vlapic_write_tsc_deadline(&l, 40000, 20000); /* later */
	vlapic_tick(&l, 39999);
	cr_assert_eq(l.timer_fired, 0);
	vlapic_tick(&l, 40000);
	cr_assert_eq(l.timer_fired, 1);
}

Test(vlapic_deadline, initial_count_ignored_current_count_zero)
{
	deadline_mode(0x45);
	cr_assert(vlapic_write(&l, APIC_TIMER_DIV, 0xb, 0));
	cr_assert(vlapic_write(&l, APIC_TIMER_INIT, 1000, 0));
	cr_assert_eq(reg(APIC_TIMER_INIT), 0, "the write must be ignored");
	cr_assert_eq(l.timer_deadline, 0);
	vlapic_write_tsc_deadline(&l, 5000, 0);
	uint32_t cur;
	cr_assert(vlapic_read(&l, APIC_TIMER_CUR, &cur, 1000));
	cr_assert_eq(cur, 0);
}

Test(vlapic_deadline, other_modes_ignore_the_msr)
{
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, 0x46, 0)); /* one-shot */
	vlapic_write_tsc_deadline(&l, 5000, 0);
	cr_assert_eq(l.tsc_deadline, 0);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 0), 0);
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
}

Test(vlapic_deadline, switching_modes_disarms)
{
	deadline_mode(0x47);
	vlapic_write_tsc_deadline(&l, 5000, 0);
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, 0x47, 0)); /* to one-shot */
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
	deadline_mode(0x47);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 0), 0, "back in deadline mode: disarmed");
	/* One-shot running, then TSC-deadline: disarmed too. */
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, 0x47, 0));
	cr_assert(vlapic_write(&l, APIC_TIMER_DIV, 0xb, 0));
	cr_assert(vlapic_write(&l, APIC_TIMER_INIT, 1000, 0));
	cr_assert_eq(vlapic_next_event(&l), 1000);
	deadline_mode(0x47);
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
	/* One-shot to periodic is a mode change as well (SDM 10.5.4.1). */
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, 0x47, 0));
	cr_assert(vlapic_write(&l, APIC_TIMER_INIT, 1000, 0));
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, APIC_LVT_PERIODIC | 0x47, 0));
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
	/* The same mode again (a vector change) keeps it running. */
	cr_assert(vlapic_write(&l, APIC_TIMER_INIT, 1000, 0));
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, APIC_LVT_PERIODIC | 0x48, 0));
	cr_assert_eq(vlapic_next_event(&l), 1000);
	cr_assert_eq(l.timer_fired, 0);
}

Test(vlapic_deadline, masked_fires_silently)
{
	deadline_mode(APIC_LVT_MASKED | 0x49);
	vlapic_write_tsc_deadline(&l, 500, 0);
	vlapic_tick(&l, 500);
	cr_assert_eq(l.timer_fired, 1);
	cr_assert_eq(vlapic_pending(&l), -1);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 500), 0);
}

Test(vlapic_deadline, a_new_tsc_offset_retimes_the_deadline)
{
	vlapic_set_tsc_offset(&l, 1000, 0);
	deadline_mode(0x4a);
	vlapic_write_tsc_deadline(&l, 6000, 0);
	cr_assert_eq(l.timer_deadline, 5000);
	vlapic_set_tsc_offset(&l, 2000, 1000); /* the guest wrote IA32_TSC */
	cr_assert_eq(l.timer_deadline, 4000);
	cr_assert_eq(vlapic_read_tsc_deadline(&l, 1000), 6000);
	vlapic_set_tsc_offset(&l, 10000, 1000); /* now past: fires */
	cr_assert_eq(vlapic_pending(&l), 0x4a);
}

Test(vlapic_deadline, reserved_timer_mode_counted_and_one_shot)
{
	cr_assert(vlapic_write(&l, APIC_LVT_TIMER, (3u << 17) | 0x4b, 0));
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x6004b);
	cr_assert_eq(l.bad_accesses, 1);
	cr_assert(vlapic_write(&l, APIC_TIMER_DIV, 0xb, 0));
	cr_assert(vlapic_write(&l, APIC_TIMER_INIT, 100, 0));
	vlapic_tick(&l, 100);
	vlapic_tick(&l, 200);
	cr_assert_eq(l.timer_fired, 1);
	cr_assert_eq(vlapic_next_event(&l), UINT64_MAX);
}

TestSuite(vlapic_trigger, .init = setup);

Test(vlapic_trigger, level_sets_tmr_and_its_eoi_is_broadcast)
{
	cr_assert(vlapic_raise_level(&l, 0x50, true));
	cr_assert_eq(reg(APIC_TMR + 0x20), 1u << 16, "vector 0x50: TMR word 2, bit 16");
	cr_assert_eq(reg(APIC_IRR + 0x20), 1u << 16);
	vlapic_accept(&l, 0x50);
	cr_assert(vlapic_write(&l, APIC_EOI, 0, 0));
	cr_assert_eq(neois, 1);
	cr_assert_eq(eois[0], 0x50);
	cr_assert_eq(l.eoi_broadcasts, 1);
	cr_assert_eq(reg(APIC_ISR + 0x20), 0);
	/* The same vector accepted as edge: TMR clears, no broadcast. */
	cr_assert(vlapic_raise_level(&l, 0x50, false));
	cr_assert_eq(reg(APIC_TMR + 0x20), 0);
	vlapic_accept(&l, 0x50);
	cr_assert(vlapic_write(&l, APIC_EOI, 0, 0));
	cr_assert_eq(neois, 1);
}

Test(vlapic_trigger, eoi_ends_the_highest_in_service_only)
{
	vlapic_raise_level(&l, 0x50, true);
	vlapic_accept(&l, 0x50);
	vlapic_raise(&l, 0x60);
	cr_assert_eq(vlapic_pending(&l), 0x60);
	vlapic_accept(&l, 0x60);
	cr_assert_eq(vlapic_in_service(&l), 0x60);
	vlapic_write(&l, APIC_EOI, 0, 0);
	cr_assert_eq(neois, 0, "0x60 was edge-triggered");
	cr_assert_eq(vlapic_in_service(&l), 0x50);
	vlapic_write(&l, APIC_EOI, 0, 0);
	cr_assert_eq(neois, 1);
	cr_assert_eq(eois[0], 0x50);
	cr_assert_eq(vlapic_in_service(&l), -1);
	vlapic_write(&l, APIC_EOI, 0, 0); /* nothing in service */
	cr_assert_eq(neois, 1);
}

Test(vlapic_trigger, no_directed_eoi)
{
	cr_assert_eq(reg(APIC_VERSION), 0x00050014u, "bit 24 clear: no EOI-broadcast suppression");
	cr_assert(vlapic_write(&l, APIC_SVR, 0x11ff, 0));
	cr_assert_eq(reg(APIC_SVR), 0x1ff, "SVR bit 12 is reserved");
	vlapic_raise_level(&l, 0x70, true);
	vlapic_accept(&l, 0x70);
	vlapic_write(&l, APIC_EOI, 0, 0);
	cr_assert_eq(neois, 1);
}

Test(vlapic_trigger, bad_vectors_refused)
{
	cr_assert_not(vlapic_raise_level(&l, 15, true));
	cr_assert_not(vlapic_raise_level(&l, 256, false));
	cr_assert_not(vlapic_raise_level(&l, -1, false));
	cr_assert_eq(l.irqs_dropped, 3);
	cr_assert_eq(reg(APIC_IRR), 0);
	vlapic_accept(&l, 300);
	cr_assert_eq(l.bad_accesses, 1);
}

TestSuite(vlapic_lint, .init = setup);

Test(vlapic_lint, extint_needs_lint0_unmasked_in_extint_mode)
{
	cr_assert_not(vlapic_accepts_extint(&l), "LINT0 is masked after reset");
	vlapic_firmware_virtual_wire(&l, 0);
	cr_assert_eq(reg(APIC_SVR), 0x1ff);
	cr_assert_eq(reg(APIC_LVT_LINT0), 0x700);
	cr_assert_eq(reg(APIC_LVT_LINT1), 0x400);
	cr_assert(vlapic_accepts_extint(&l));
	vlapic_write(&l, APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700, 0);
	cr_assert_not(vlapic_accepts_extint(&l));
	vlapic_write(&l, APIC_LVT_LINT0, 0x30, 0); /* fixed */
	cr_assert_not(vlapic_accepts_extint(&l));
	vlapic_write(&l, APIC_LVT_LINT0, 0x700, 0);
	vlapic_write(&l, APIC_SVR, 0xff, 0); /* software disable masks LINT0 */
	cr_assert_eq(reg(APIC_LVT_LINT0), 0x10700);
	cr_assert_not(vlapic_accepts_extint(&l));
	cr_assert(vlapic_write_apic_base(&l, 0xfee00100, 36)); /* global disable */
	cr_assert(vlapic_accepts_extint(&l), "without an APIC, LINT0 is INTR");
}

Test(vlapic_lint, pulses_follow_the_lvt)
{
	vlapic_write(&l, APIC_LVT_LINT1, 0x400, 0); /* NMI */
	vlapic_lint_pulse(&l, 1);
	cr_assert(vlapic_take_nmi(&l));
	cr_assert_not(vlapic_take_nmi(&l));
	vlapic_write(&l, APIC_LVT_LINT0, 0x33, 0); /* fixed, vector 0x33 */
	vlapic_lint_pulse(&l, 0);
	cr_assert_eq(vlapic_pending(&l), 0x33);
	vlapic_write(&l, APIC_LVT_LINT1, APIC_LVT_MASKED | 0x400, 0);
	vlapic_lint_pulse(&l, 1);
	cr_assert_not(vlapic_take_nmi(&l));
	cr_assert_eq(l.irqs_dropped, 1);
	vlapic_write(&l, APIC_LVT_LINT1, 0x500, 0); /* INIT: not modelled */
	vlapic_lint_pulse(&l, 1);
	cr_assert_eq(l.msgs_ignored, 1);
	vlapic_lint_pulse(&l, 2);
	cr_assert_eq(l.bad_accesses, 1);
	cr_assert(vlapic_write_apic_base(&l, 0xfee00100, 36));
	vlapic_lint_pulse(&l, 1);
	cr_assert(vlapic_take_nmi(&l), "without an APIC, LINT1 is the NMI pin");
}

Test(vlapic_lint, lvt_writable_bits)
{
	vlapic_write(&l, APIC_LVT_LINT0, 0xffffffffu, 0);
	cr_assert_eq(reg(APIC_LVT_LINT0), 0x1a7ff, "delivery status, remote IRR read-only");
	vlapic_write(&l, APIC_LVT_THERMAL, 0xffffffffu, 0);
	cr_assert_eq(reg(APIC_LVT_THERMAL), 0x107ff);
	vlapic_write(&l, APIC_LVT_ERROR, 0xffffffffu, 0);
	cr_assert_eq(reg(APIC_LVT_ERROR), 0x100ff);
	vlapic_write(&l, APIC_LVT_TIMER, 0xffffffffu, 0);
	cr_assert_eq(reg(APIC_LVT_TIMER), 0x700ff);
}
