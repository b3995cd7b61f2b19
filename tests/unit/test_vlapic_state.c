/* The local APIC's extra state blob (TMR, IA32_APIC_BASE, TSC deadline,
 * pending NMI): round trips on top of the LAPIC record's registers, every
 * refusal rule, random activity. The host TSC runs at 1 GHz. */
#include "hv/vdev/vlapic.h"
#include "state_test.h"

#define GHZ 1000000000ull

enum { TMR = 0, APIC_BASE = 32, TSC_DEADLINE = 40, NMI_PENDING = 48 };

static void record_eoi(void *ctx, uint8_t vector)
{
	st_note(ctx, 0x6000 | vector);
}

static void fresh(struct vlapic *l, struct st_transcript *t)
{
	vlapic_init(l, 0, GHZ);
	vlapic_set_eoi_broadcast(l, record_eoi, t);
}

/* What the stream's LAPIC record restores (migrate/vm_state.c): the
 * registers; the timer is re-timed by vlapic_set_tsc_offset below. */
static void copy_record(struct vlapic *dst, const struct vlapic *src)
{
	dst->id = src->id, dst->tpr = src->tpr, dst->svr = src->svr, dst->ldr = src->ldr;
	dst->dfr = src->dfr, dst->esr = src->esr, dst->icr_lo = src->icr_lo;
	dst->icr_hi = src->icr_hi, dst->lvt_timer = src->lvt_timer;
	dst->lvt_thermal = src->lvt_thermal, dst->lvt_perf = src->lvt_perf;
	dst->lvt_lint0 = src->lvt_lint0, dst->lvt_lint1 = src->lvt_lint1;
	dst->lvt_error = src->lvt_error, dst->lvt_cmci = src->lvt_cmci;
	dst->timer_init = src->timer_init, dst->timer_div = src->timer_div;
	memcpy(dst->irr, src->irr, sizeof(dst->irr));
	memcpy(dst->isr, src->isr, sizeof(dst->isr));
}

static void raise_msg(struct vlapic *l, uint8_t vector, bool level)
{
	struct apic_msg m = { .vector = vector, .dest = 0, .level = level };

	cr_assert(vlapic_receive(l, &m));
}

/* Virtual wire, level-triggered vectors 0x41 and 0xa9 in service / pending,
 * TSC-deadline mode armed for guest TSC 9000, an NMI from LINT1 not yet
 * taken. Guest TSC = host TSC + 1000. */
static void busy(struct vlapic *l)
{
	vlapic_set_tsc_offset(l, 1000, 0);
	vlapic_firmware_virtual_wire(l, 0);
	raise_msg(l, 0x41, true);
	raise_msg(l, 0xa9, true);
	raise_msg(l, 0x30, false);
	vlapic_accept(l, vlapic_pending(l)); /* 0xa9 */
	cr_assert(vlapic_write(l, APIC_LVT_TIMER, APIC_LVT_TSC_DEADLINE | 0xef, 0));
	vlapic_write_tsc_deadline(l, 9000, 100);
	vlapic_lint_pulse(l, 1);
}

static void drive(struct vlapic *l, struct st_transcript *t)
{
	uint32_t v;

	for (uint32_t off = APIC_TMR; off < APIC_TMR + 0x80; off += 0x10) {
		cr_assert(vlapic_read(l, off, &v, 500));
		st_note(t, v);
	}
	st_note(t, vlapic_read_apic_base(l));
	st_note(t, vlapic_read_tsc_deadline(l, 500));
	st_note(t, vlapic_next_event(l));
	st_note(t, vlapic_take_nmi(l));
	st_note(t, vlapic_take_nmi(l));
	vlapic_write(l, APIC_EOI, 0, 600); /* 0xa9: level, broadcast */
	vlapic_tick(l, 7999);
	st_note(t, (uint64_t)vlapic_pending(l));
	vlapic_tick(l, 8000);
	for (int i = 0; i < 4; i++) {
		int vec = vlapic_pending(l);
		st_note(t, (uint64_t)vec);
		if (vec < 0)
			break;
		vlapic_accept(l, vec);
		vlapic_write(l, APIC_EOI, 0, 8000);
	}
	st_note(t, vlapic_read_tsc_deadline(l, 8000));
}

Test(vlapic_state, round_trip_keeps_bytes_and_behaviour)
{
	struct st_transcript ta = { 0 }, tb = { 0 };
	struct vlapic a, b;
	uint8_t blob[VLAPIC_EXTRA_STATE_SIZE], again[VLAPIC_EXTRA_STATE_SIZE];
	char err[160] = "";

	fresh(&a, &ta);
	busy(&a);
	cr_assert_eq(vlapic_save_extra(&a, blob, sizeof(blob)), VLAPIC_EXTRA_STATE_SIZE);
	fresh(&b, &tb);
	copy_record(&b, &a);
	cr_assert_eq(vlapic_load_extra(&b, blob, sizeof(blob), 39, err, sizeof(err)), 0, "%s", err);
	vlapic_set_tsc_offset(&b, 1000, 400);
	cr_assert_eq(vlapic_save_extra(&b, again, sizeof(again)), VLAPIC_EXTRA_STATE_SIZE);
	cr_assert_arr_eq(blob, again, VLAPIC_EXTRA_STATE_SIZE);
	drive(&a, &ta);
	drive(&b, &tb);
	st_assert_same(&ta, &tb);
	cr_assert_eq(ta.v[2], 1u << (0x41 - 64), "TMR bit of vector 0x41");
	cr_assert_eq(ta.v[8], 0xfee00900, "apic_base");
	cr_assert_eq(ta.v[9], 9000, "the deadline in guest TSC");
}

Test(vlapic_state, sizes)
{
	struct st_transcript t = { 0 };
	struct vlapic a, before;
	uint8_t blob[VLAPIC_EXTRA_STATE_SIZE + 1] = { 0 };
	char err[160];

	fresh(&a, &t);
	cr_assert_eq(vlapic_save_extra(&a, blob, VLAPIC_EXTRA_STATE_SIZE - 1), 0);
	cr_assert_eq(vlapic_save_extra(&a, blob, sizeof(blob)), VLAPIC_EXTRA_STATE_SIZE);
	memcpy(&before, &a, sizeof(a));
	st_assert_error(vlapic_load_extra(&a, blob, VLAPIC_EXTRA_STATE_SIZE - 1, 36, err,
					  sizeof(err)),
			err, "vlapic: state is 48 bytes, expected 49");
	st_assert_error(vlapic_load_extra(&a, blob, VLAPIC_EXTRA_STATE_SIZE + 1, 36, err,
					  sizeof(err)),
			err, "vlapic: state is 50 bytes, expected 49");
	cr_assert_arr_eq(&a, &before, sizeof(a));
}

/* Against the power-up state (EN, BSP, 0xfee00000; LVT timer masked,
 * one-shot), loaded with MAXPHYADDR 36. */
static const struct st_case cases[] = {
	{ { { NMI_PENDING, 1, 2 } }, "nmi_pending: 2 is not 0 or 1" },
	{ { { APIC_BASE, 8, 0xfee00d00 } },
	  "apic_base 0xfee00d00: reserved bits 0-7, 9 or 10 set" },
	{ { { APIC_BASE, 8, 0xfee00901 } },
	  "apic_base 0xfee00901: reserved bits 0-7, 9 or 10 set" },
	{ { { APIC_BASE, 8, 0x1000fee00900 } },
	  "apic_base 0x1000fee00900: bits at or above MAXPHYADDR 36 set" },
	{ { { TMR, 4, 0x00000020 } }, "tmr[0] 0x00000020: vectors 0-15 are never accepted" },
	{ { { APIC_BASE, 8, 0xfee00100 }, { TMR + 4, 4, 1 } },
	  "tmr bits set with apic_base EN clear" },
	{ { { APIC_BASE, 8, 0xfee00000 }, { TSC_DEADLINE, 8, 5 } },
	  "tsc_deadline armed with apic_base EN clear" },
	{ { { TSC_DEADLINE, 8, 5 } },
	  "tsc_deadline armed but LVT timer 0x00010000 is not in TSC-deadline mode" },
};

Test(vlapic_state, every_rule_refuses_and_changes_nothing)
{
	struct st_transcript t = { 0 };
	struct vlapic src, dst, before;
	uint8_t base[VLAPIC_EXTRA_STATE_SIZE], blob[VLAPIC_EXTRA_STATE_SIZE];
	char err[160];

	fresh(&src, &t);
	vlapic_save_extra(&src, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, &t);
		memcpy(&before, &dst, sizeof(dst));
		memcpy(blob, base, sizeof(blob));
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vlapic_load_extra(&dst, blob, sizeof(blob), 36, err, sizeof(err)),
				err, cases[i].want);
		cr_assert_arr_eq(&dst, &before, sizeof(dst), "case %u changed the APIC", i);
	}
}

/* MAXPHYADDR is clamped to 32-52 as vlapic_write_apic_base() does. */
Test(vlapic_state, maxphyaddr_as_the_msr_write)
{
	struct st_transcript t = { 0 };
	struct vlapic a;
	uint8_t blob[VLAPIC_EXTRA_STATE_SIZE];
	char err[160];

	fresh(&a, &t);
	vlapic_save_extra(&a, blob, sizeof(blob));
	st_apply(blob, &(struct st_patch){ APIC_BASE, 8, 0x8000000000000ull | 0x900 });
	cr_assert_eq(vlapic_load_extra(&a, blob, sizeof(blob), 64, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vlapic_mmio_base(&a), 0x8000000000000ull);
	st_assert_error(vlapic_load_extra(&a, blob, sizeof(blob), 51, err, sizeof(err)), err,
			"bits at or above MAXPHYADDR 51 set");
	st_apply(blob, &(struct st_patch){ APIC_BASE, 8, 0xfee00900 });
	cr_assert_eq(vlapic_load_extra(&a, blob, sizeof(blob), 12, err, sizeof(err)), 0, "%s", err);
	st_apply(blob, &(struct st_patch){ APIC_BASE, 8, 0x1fee00900 });
	st_assert_error(vlapic_load_extra(&a, blob, sizeof(blob), 12, err, sizeof(err)), err,
			"bits at or above MAXPHYADDR 32 set");
}

Test(vlapic_state, random_activity_stays_loadable)
{
	static const uint32_t regs[] = { APIC_SVR, APIC_LVT_TIMER, APIC_LVT_LINT0, APIC_LVT_LINT1,
					 APIC_EOI, APIC_ICR_LO, APIC_TIMER_INIT, APIC_TPR };
	struct st_transcript t = { 0 };
	struct vlapic a, b;
	uint8_t blob[VLAPIC_EXTRA_STATE_SIZE], again[VLAPIC_EXTRA_STATE_SIZE];
	char err[160];
	uint64_t seed = 0x1a91c, now = 0;

	fresh(&a, &t);
	for (unsigned step = 0; step < 20000; step++) {
		uint64_t r = st_rand(&seed);
		uint32_t v = (uint32_t)(r >> 32);
		now += (r >> 16) % 5000;
		switch (r % 8) {
		case 0: case 1: vlapic_write(&a, regs[(r >> 8) % 8], v, now); break;
		case 2: {
			struct apic_msg m = { .vector = (uint8_t)v, .delivery = (r >> 12) % 8,
					      .level = (r >> 11) & 1 };
			vlapic_receive(&a, &m);
			break;
		}
		case 3: vlapic_write_tsc_deadline(&a, now + (v % 20000), now); break;
		case 4: vlapic_write_apic_base(&a, 0xfee00100 | ((r >> 10) & 1) << 11, 36); break;
		case 5: vlapic_lint_pulse(&a, (r >> 9) & 1); break;
		case 6: if (vlapic_pending(&a) >= 0) vlapic_accept(&a, vlapic_pending(&a)); break;
		default: vlapic_tick(&a, now); vlapic_take_nmi(&a); break;
		}
		vlapic_save_extra(&a, blob, sizeof(blob));
		fresh(&b, &t);
		copy_record(&b, &a);
		cr_assert_eq(vlapic_load_extra(&b, blob, sizeof(blob), 36, err, sizeof(err)), 0,
			     "step %u: %s", step, err);
		vlapic_save_extra(&b, again, sizeof(again));
		cr_assert_arr_eq(blob, again, sizeof(blob));
	}
}
