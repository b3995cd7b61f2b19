/* The local APIC timer (SDM 10.5.4): one-shot and periodic counting at
 * VLAPIC_BUS_HZ through the divider, and TSC-deadline mode (10.5.4.1).
 * All three keep their next expiry in timer_deadline (host TSC), so one
 * tick and one next-event serve every mode. */
#include "hv/vdev/vlapic.h"

#include "hv/lib/muldiv.h"
#include "hv/vdev/vlapic_priv.h"

enum { MODE_ONE_SHOT = 0, MODE_PERIODIC = 1, MODE_TSC_DEADLINE = 2, MODE_RESERVED = 3 };

static unsigned timer_mode(const struct vlapic *l)
{
	return (l->lvt_timer & APIC_LVT_TIMER_MODE) >> 17;
}

static bool deadline_mode(const struct vlapic *l)
{
	return timer_mode(l) == MODE_TSC_DEADLINE;
}

static void disarm(struct vlapic *l)
{
	l->timer_period = 0;
	l->timer_deadline = 0;
	l->tsc_deadline = 0;
}

static uint32_t divide_by(uint32_t div)
{
	/* bits 0,1,3: 000=2 001=4 010=8 011=16 100=32 101=64 110=128 111=1 */
	uint32_t code = (div & 3) | ((div >> 1) & 4);

	return code == 7 ? 1 : 2u << code;
}

/* SDM 10.5.4.1: "A write to the LVT Timer Register that changes the timer
 * mode disarms the local APIC timer." Mode 11b is reserved: counted, and
 * the timer then counts as in one-shot mode. */
void vlapic_timer_write_lvt(struct vlapic *l, uint32_t value)
{
	unsigned old_mode = timer_mode(l);

	l->lvt_timer = value;
	if (timer_mode(l) == MODE_RESERVED)
		l->bad_accesses++;
	if (timer_mode(l) != old_mode)
		disarm(l);
}

void vlapic_timer_write_init(struct vlapic *l, uint32_t value, uint64_t now)
{
	if (deadline_mode(l))
		return; /* SDM 10.5.4.1: ignored in TSC-deadline mode */
	l->timer_init = value;
	l->timer_period = 0;
	l->timer_deadline = 0;
	if (!value)
		return; /* a count of 0 stops the timer */
	uint64_t counts = (uint64_t)value * divide_by(l->timer_div);
	uint64_t period = mul_div_u64(counts, l->tsc_hz, VLAPIC_BUS_HZ);
	l->timer_period = period ? period : 1;
	l->timer_start = now;
	l->timer_deadline = now + l->timer_period;
}

uint32_t vlapic_timer_current(const struct vlapic *l, uint64_t now)
{
	if (deadline_mode(l) || !l->timer_deadline || now >= l->timer_deadline)
		return 0; /* TSC-deadline mode: "always reads 0" */
	uint64_t left_tsc = l->timer_deadline - now;
	uint64_t counts = mul_div_u64(left_tsc, VLAPIC_BUS_HZ, l->tsc_hz) / divide_by(l->timer_div);
	return counts > l->timer_init ? l->timer_init : (uint32_t)counts;
}

void vlapic_tick(struct vlapic *l, uint64_t now)
{
	if (!l->timer_deadline || now < l->timer_deadline)
		return;
	l->timer_fired++;
	if (!(l->lvt_timer & APIC_LVT_MASKED) && vlapic_enabled(l))
		vlapic_raise(l, l->lvt_timer & APIC_LVT_VECTOR);
	if (timer_mode(l) == MODE_PERIODIC) {
		/* Catch up without a burst: missed periods collapse into one. */
		uint64_t missed = (now - l->timer_deadline) / l->timer_period;
		l->timer_deadline += (missed + 1) * l->timer_period;
	} else {
		/* One-shot stops; TSC-deadline disarms and clears the MSR. */
		l->timer_deadline = 0;
		l->tsc_deadline = 0;
	}
}

uint64_t vlapic_next_event(const struct vlapic *l)
{
	return l->timer_deadline ? l->timer_deadline : UINT64_MAX;
}

/* The host TSC at which the guest TSC reaches tsc_deadline. Compared as
 * the CPU does, unsigned 64-bit: a deadline at or below the guest's TSC
 * now is due now. 0 stays the "stopped" mark, so a due time of 0 is 1. */
static void time_deadline(struct vlapic *l, uint64_t now)
{
	uint64_t guest_now = now + l->tsc_offset;
	uint64_t at = now;

	l->timer_period = 0;
	if (!l->tsc_deadline) {
		l->timer_deadline = 0;
		return;
	}
	if (l->tsc_deadline > guest_now) {
		at = now + (l->tsc_deadline - guest_now);
		if (at < now)
			at = UINT64_MAX; /* beyond the host TSC's range */
	}
	l->timer_start = now;
	l->timer_deadline = at ? at : 1;
}

uint64_t vlapic_read_tsc_deadline(struct vlapic *l, uint64_t now)
{
	if (!vlapic_hw_enabled(l) || !deadline_mode(l))
		return 0;
	vlapic_tick(l, now); /* a deadline that passed reads 0 */
	return l->tsc_deadline;
}

void vlapic_write_tsc_deadline(struct vlapic *l, uint64_t value, uint64_t now)
{
	if (!vlapic_hw_enabled(l) || !deadline_mode(l))
		return;
	l->tsc_deadline = value;
	time_deadline(l, now);
	vlapic_tick(l, now);
}

void vlapic_set_tsc_offset(struct vlapic *l, uint64_t tsc_offset, uint64_t now)
{
	l->tsc_offset = tsc_offset;
	if (!deadline_mode(l) || !l->tsc_deadline)
		return;
	time_deadline(l, now);
	vlapic_tick(l, now);
}
