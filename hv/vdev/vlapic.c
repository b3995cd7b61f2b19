#include "hv/vdev/vlapic.h"

#include "hv/lib/muldiv.h"
#include "hv/lib/string.h"

#define APIC_VERSION_VALUE 0x00050014u /* version 0x14, 6 LVT entries */
#define ICR_DELIVERY_STATUS (1u << 12)
#define ICR_SHORTHAND_SELF (1u << 18)
#define ICR_FIXED 0u

static void set_bit(uint32_t *v, int bit)
{
	v[bit / 32] |= 1u << (bit % 32);
}

static void clear_bit(uint32_t *v, int bit)
{
	v[bit / 32] &= ~(1u << (bit % 32));
}

static int highest(const uint32_t *v)
{
	for (int w = 7; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

void vlapic_init(struct vlapic *l, uint32_t id, uint64_t tsc_hz)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->tsc_hz = tsc_hz;
	l->svr = 0xff; /* software disabled until the guest enables it */
	l->dfr = 0xffffffffu;
	l->lvt_timer = l->lvt_thermal = l->lvt_perf = APIC_LVT_MASKED;
	l->lvt_lint0 = l->lvt_lint1 = l->lvt_error = l->lvt_cmci = APIC_LVT_MASKED;
}

bool vlapic_enabled(const struct vlapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

static uint32_t divide_by(uint32_t div)
{
	/* bits 0,1,3: 000=2 001=4 010=8 011=16 100=32 101=64 110=128 111=1 */
	uint32_t code = (div & 3) | ((div >> 1) & 4);

	return code == 7 ? 1 : 2u << code;
}

static void timer_start(struct vlapic *l, uint64_t now)
{
	l->timer_period = 0;
	l->timer_deadline = 0;
	if (!l->timer_init)
		return;
	uint64_t counts = (uint64_t)l->timer_init * divide_by(l->timer_div);
	uint64_t period = mul_div_u64(counts, l->tsc_hz, VLAPIC_BUS_HZ);
	l->timer_period = period ? period : 1;
	l->timer_start = now;
	l->timer_deadline = now + l->timer_period;
}

static uint32_t timer_current(const struct vlapic *l, uint64_t now)
{
	if (!l->timer_deadline || now >= l->timer_deadline)
		return 0;
	uint64_t left_tsc = l->timer_deadline - now;
	uint64_t counts = mul_div_u64(left_tsc, VLAPIC_BUS_HZ, l->tsc_hz) / divide_by(l->timer_div);
	return counts > l->timer_init ? l->timer_init : (uint32_t)counts;
}

static uint32_t ppr(const struct vlapic *l)
{
	int isr = highest(l->isr);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xf0;

	return (l->tpr & 0xf0) >= isrv ? l->tpr & 0xff : isrv;
}

bool vlapic_read(struct vlapic *l, uint32_t off, uint32_t *v, uint64_t now)
{
	if (off & 0xf || off >= VLAPIC_SIZE) {
		l->bad_accesses++;
		return false;
	}
	switch (off) {
	case APIC_ID: *v = l->id << 24; return true;
	case APIC_VERSION: *v = APIC_VERSION_VALUE; return true;
	case APIC_TPR: *v = l->tpr; return true;
	case APIC_APR: *v = 0; return true;
	case APIC_PPR: *v = ppr(l); return true;
	case APIC_EOI: *v = 0; return true;
	case APIC_LDR: *v = l->ldr; return true;
	case APIC_DFR: *v = l->dfr; return true;
	case APIC_SVR: *v = l->svr; return true;
	case APIC_ESR: *v = l->esr; return true;
	case APIC_ICR_LO: *v = l->icr_lo & ~ICR_DELIVERY_STATUS; return true;
	case APIC_ICR_HI: *v = l->icr_hi; return true;
	case APIC_LVT_TIMER: *v = l->lvt_timer; return true;
	case APIC_LVT_THERMAL: *v = l->lvt_thermal; return true;
	case APIC_LVT_PERF: *v = l->lvt_perf; return true;
	case APIC_LVT_LINT0: *v = l->lvt_lint0; return true;
	case APIC_LVT_LINT1: *v = l->lvt_lint1; return true;
	case APIC_LVT_ERROR: *v = l->lvt_error; return true;
	case APIC_LVT_CMCI: *v = l->lvt_cmci; return true;
	case APIC_TIMER_INIT: *v = l->timer_init; return true;
	case APIC_TIMER_CUR: *v = timer_current(l, now); return true;
	case APIC_TIMER_DIV: *v = l->timer_div; return true;
	}
	if (off >= APIC_ISR && off < APIC_ISR + 0x80) {
		*v = l->isr[(off - APIC_ISR) / 16];
		return true;
	}
	if (off >= APIC_TMR && off < APIC_TMR + 0x80) {
		*v = 0;
		return true;
	}
	if (off >= APIC_IRR && off < APIC_IRR + 0x80) {
		*v = l->irr[(off - APIC_IRR) / 16];
		return true;
	}
	*v = 0;
	l->bad_accesses++;
	return false;
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);

	if (v >= 0)
		clear_bit(l->isr, v);
}

static void write_icr(struct vlapic *l, uint32_t value)
{
	l->icr_lo = value;
	uint32_t shorthand = value & (3u << 18);
	uint32_t mode = value & (7u << 8);
	/* One vCPU: only a fixed self-IPI (or one addressed to our own ID)
	 * has a target; INIT/SIPI to absent APs are dropped. */
	bool self = shorthand == ICR_SHORTHAND_SELF ||
		    (shorthand == 0 && (l->icr_hi >> 24) == l->id);
	if (self && mode == ICR_FIXED && (value & 0xff) >= 16)
		vlapic_raise(l, value & 0xff);
	else
		l->ipis_ignored++;
}

bool vlapic_write(struct vlapic *l, uint32_t off, uint32_t value, uint64_t now)
{
	if (off & 0xf || off >= VLAPIC_SIZE) {
		l->bad_accesses++;
		return false;
	}
	switch (off) {
	case APIC_ID: l->id = value >> 24; return true;
	case APIC_TPR: l->tpr = value & 0xff; return true;
	case APIC_EOI: eoi(l); return true;
	case APIC_LDR: l->ldr = value & 0xff000000u; return true;
	case APIC_DFR: l->dfr = value | 0x0fffffffu; return true;
	case APIC_SVR: l->svr = value & 0x3ff; return true;
	case APIC_ESR: l->esr = 0; return true;
	case APIC_ICR_HI: l->icr_hi = value & 0xff000000u; return true;
	case APIC_ICR_LO: write_icr(l, value); return true;
	case APIC_LVT_TIMER:
		l->lvt_timer = value & (0xff | APIC_LVT_MASKED | APIC_LVT_PERIODIC);
		return true;
	case APIC_LVT_THERMAL: l->lvt_thermal = value; return true;
	case APIC_LVT_PERF: l->lvt_perf = value; return true;
	case APIC_LVT_LINT0: l->lvt_lint0 = value; return true;
	case APIC_LVT_LINT1: l->lvt_lint1 = value; return true;
	case APIC_LVT_ERROR: l->lvt_error = value; return true;
	case APIC_LVT_CMCI: l->lvt_cmci = value; return true;
	case APIC_TIMER_INIT:
		l->timer_init = value;
		timer_start(l, now);
		return true;
	case APIC_TIMER_DIV: l->timer_div = value & 0xb; return true;
	case APIC_TIMER_CUR:
	case APIC_VERSION:
	case APIC_PPR:
		return true; /* read-only: writes are ignored */
	}
	l->bad_accesses++;
	return false;
}

void vlapic_raise(struct vlapic *l, int vector)
{
	if (vector >= 16 && vector < 256)
		set_bit(l->irr, vector);
}

void vlapic_tick(struct vlapic *l, uint64_t now)
{
	if (!l->timer_deadline || now < l->timer_deadline)
		return;
	l->timer_fired++;
	if (!(l->lvt_timer & APIC_LVT_MASKED) && vlapic_enabled(l))
		vlapic_raise(l, l->lvt_timer & 0xff);
	if (l->lvt_timer & APIC_LVT_PERIODIC) {
		/* Catch up without a burst: missed periods collapse into one. */
		uint64_t missed = (now - l->timer_deadline) / l->timer_period;
		l->timer_deadline += (missed + 1) * l->timer_period;
	} else {
		l->timer_deadline = 0;
	}
}

int vlapic_pending(const struct vlapic *l)
{
	int v = highest(l->irr);

	if (v < 0 || !vlapic_enabled(l))
		return -1;
	if (((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_accept(struct vlapic *l, int vector)
{
	clear_bit(l->irr, vector);
	set_bit(l->isr, vector);
}
