/* The local APIC's registers, reset states and IA32_APIC_BASE; the timer is
 * in vlapic_timer.c, interrupt acceptance in vlapic_irq.c. */
#include "hv/vdev/vlapic.h"

#include "hv/lib/string.h"
#include "hv/vdev/vlapic_priv.h"

/* Version 0x14 (integrated APIC), max LVT entry 5 (six entries). Bit 24
 * (EOI-broadcast suppression) clear: SVR bit 12 is then reserved, and the
 * EOI of every level-triggered vector is broadcast to the IOAPIC. */
#define APIC_VERSION_VALUE 0x00050014u
#define APIC_SVR_WRITABLE 0x3ffu /* vector, enable, focus checking */
#define ICR_DELIVERY_STATUS (1u << 12)
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
/* Vector, delivery mode, destination mode, level, trigger, shorthand;
 * delivery status is read-only (an IPI here is sent at once: always idle). */
#define ICR_WRITABLE 0x000ccfffu
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)

/* Writable bits of the LVT entries (SDM figure 10-8); delivery status and
 * remote IRR are read-only. */
#define APIC_LVT_POLARITY (1u << 13)
#define APIC_LVT_LEVEL (1u << 15)
#define LVT_TIMER_WRITABLE (APIC_LVT_VECTOR | APIC_LVT_MASKED | APIC_LVT_TIMER_MODE)
#define LVT_LOCAL_WRITABLE (APIC_LVT_VECTOR | APIC_LVT_DM | APIC_LVT_MASKED)
#define LVT_LINT_WRITABLE (LVT_LOCAL_WRITABLE | APIC_LVT_POLARITY | APIC_LVT_LEVEL)
#define LVT_ERROR_WRITABLE (APIC_LVT_VECTOR | APIC_LVT_MASKED)

/* IA32_APIC_BASE (SDM 10.4.4). EXTD (bit 10) is reserved without x2APIC. */
#define BASE_EN (1ull << 11)
#define BASE_RESERVED_LOW 0x6ffull /* bits 0-7, 9, 10 */
#define BASE_ADDR_MASK (~0xfffull)

/* Power-up or RESET (SDM 10.4.7.1): IRR, ISR, TMR, ICR, LDR, TPR, the timer
 * and divider 0; DFR all ones; LVT entries masked; SVR 0xff; the ID the
 * hardware assigns. Wiring, counters and IA32_APIC_BASE are untouched. */
static void reset_registers(struct vlapic *l)
{
	l->id = l->hw_id;
	l->tpr = l->ldr = l->esr = l->icr_lo = l->icr_hi = 0;
	l->svr = 0xff;
	l->dfr = 0xffffffffu;
	l->lvt_timer = l->lvt_thermal = l->lvt_perf = APIC_LVT_MASKED;
	l->lvt_lint0 = l->lvt_lint1 = l->lvt_error = l->lvt_cmci = APIC_LVT_MASKED;
	l->timer_init = l->timer_div = 0;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->tsc_deadline = 0;
	l->nmi_pending = false;
	l->timer_start = l->timer_period = l->timer_deadline = 0;
}

void vlapic_init(struct vlapic *l, uint32_t id, uint64_t tsc_hz)
{
	memset(l, 0, sizeof(*l));
	l->hw_id = id;
	l->tsc_hz = tsc_hz;
	l->apic_base = VLAPIC_BASE | BASE_EN | VLAPIC_BASE_BSP;
	reset_registers(l);
}

void vlapic_set_eoi_broadcast(struct vlapic *l, vlapic_eoi_fn fn, void *ctx)
{
	l->eoi_broadcast = fn;
	l->eoi_ctx = ctx;
}

void vlapic_set_ipi_bus(struct vlapic *l, vlapic_ipi_fn fn, void *ctx)
{
	l->ipi_send = fn;
	l->ipi_ctx = ctx;
}

void vlapic_make_ap(struct vlapic *l)
{
	l->apic_base &= ~VLAPIC_BASE_BSP;
}

/* SDM 10.4.7.3: INIT resets the APIC as at power-up, but the APIC ID and
 * IA32_APIC_BASE keep their values. */
void vlapic_init_signal(struct vlapic *l)
{
	uint32_t id = l->id;

	reset_registers(l);
	l->id = id;
	l->init_pending = false;
}

bool vlapic_hw_enabled(const struct vlapic *l)
{
	return l->apic_base & BASE_EN;
}

bool vlapic_enabled(const struct vlapic *l)
{
	return vlapic_hw_enabled(l) && (l->svr & APIC_SVR_ENABLE);
}

uint64_t vlapic_read_apic_base(const struct vlapic *l)
{
	return l->apic_base;
}

uint64_t vlapic_mmio_base(const struct vlapic *l)
{
	return l->apic_base & BASE_ADDR_MASK;
}

bool vlapic_claims(const struct vlapic *l, uint64_t gpa)
{
	return vlapic_hw_enabled(l) && gpa - vlapic_mmio_base(l) < VLAPIC_SIZE;
}

bool vlapic_write_apic_base(struct vlapic *l, uint64_t value, unsigned maxphyaddr)
{
	if (maxphyaddr < 32)
		maxphyaddr = 32;
	if (maxphyaddr > 52)
		maxphyaddr = 52;
	if (value & (BASE_RESERVED_LOW | ~0ull << maxphyaddr))
		return false;
	bool was_enabled = vlapic_hw_enabled(l);
	l->apic_base = value;
	/* SDM 10.4.3: globally disabled, "the APIC may return to the state
	 * described in 10.4.7.1"; this one does, so re-enabling starts from
	 * the power-up state. */
	if (was_enabled && !(value & BASE_EN))
		reset_registers(l);
	return true;
}

static bool read_vector_reg(const struct vlapic *l, uint32_t off, uint32_t *v)
{
	const uint32_t *reg;

	if (off >= APIC_ISR && off < APIC_ISR + 0x80)
		reg = l->isr;
	else if (off >= APIC_TMR && off < APIC_TMR + 0x80)
		reg = l->tmr;
	else if (off >= APIC_IRR && off < APIC_IRR + 0x80)
		reg = l->irr;
	else
		return false;
	*v = reg[(off & 0x7f) / 16];
	return true;
}

static bool read_reg(struct vlapic *l, uint32_t off, uint32_t *v, uint64_t now)
{
	switch (off) {
	case APIC_ID: *v = l->id << 24; return true;
	case APIC_VERSION: *v = APIC_VERSION_VALUE; return true;
	case APIC_TPR: *v = l->tpr; return true;
	case APIC_APR: *v = 0; return true;
	case APIC_PPR: *v = vlapic_ppr(l); return true;
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
	case APIC_TIMER_CUR: *v = vlapic_timer_current(l, now); return true;
	case APIC_TIMER_DIV: *v = l->timer_div; return true;
	}
	return read_vector_reg(l, off, v);
}

bool vlapic_read(struct vlapic *l, uint32_t off, uint32_t *v, uint64_t now)
{
	*v = 0;
	if (!vlapic_hw_enabled(l) || off & 0xf || off >= VLAPIC_SIZE || !read_reg(l, off, v, now)) {
		l->bad_accesses++;
		return false;
	}
	return true;
}

/* SDM 10.8.5: the highest ISR bit ends; if its vector was accepted as
 * level-triggered, the EOI goes on to the IOAPICs. */
static void eoi(struct vlapic *l)
{
	int v = vlapic_highest(l->isr);

	if (v < 0)
		return;
	vlapic_clear_bit(l->isr, (unsigned)v);
	if (!vlapic_test_bit(l->tmr, (unsigned)v))
		return;
	l->eoi_broadcasts++;
	/* Last: the IOAPIC may deliver the vector again from inside. */
	if (l->eoi_broadcast)
		l->eoi_broadcast(l->eoi_ctx, (uint8_t)v);
}

/* SDM 10.6.1: the sender's half of an IPI. The message goes out through
 * the VM's bus (ipi_send), which finds the targets; without a bus (a lone
 * APIC) only a fixed IPI to itself has one. Combinations the SDM's table
 * 10-3 lists as invalid for the shorthands are not sent. */
static void write_icr(struct vlapic *l, uint32_t value)
{
	l->icr_lo = value & ICR_WRITABLE;
	enum apic_shorthand sh = (enum apic_shorthand)((value >> 18) & 3);
	struct apic_msg m = {
		.vector = (uint8_t)value,
		.dest = (uint8_t)(l->icr_hi >> 24),
		.dest_logical = value & ICR_DEST_LOGICAL,
		.delivery = (uint8_t)vlapic_lvt_mode(value),
		.level = false, /* IPIs are edge-triggered as received */
	};

	/* INIT level de-assert (level 0, trigger level) only resynchronises
	 * arbitration IDs on old APICs; Pentium 4 and later ignore it. */
	if (m.delivery == APIC_DM_INIT && !(value & ICR_LEVEL_ASSERT) && (value & ICR_TRIGGER_LEVEL)) {
		l->ipis_ignored++;
		return;
	}
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		l->esr |= ESR_SEND_ILLEGAL_VECTOR;
		l->ipis_ignored++;
		return;
	}
	bool valid = m.delivery != 3 && m.delivery != APIC_DM_EXTINT &&
		     (sh == APIC_SH_NONE || sh == APIC_SH_OTHERS || m.delivery == APIC_DM_FIXED);
	if (!valid) {
		l->ipis_ignored++;
		return;
	}
	l->ipis_sent++;
	if (l->ipi_send) {
		l->ipi_send(l->ipi_ctx, l, &m, sh);
		return;
	}
	bool self = sh == APIC_SH_SELF || sh == APIC_SH_ALL ||
		    (sh == APIC_SH_NONE && vlapic_is_target(l, &m));
	if (self)
		vlapic_receive(l, &m);
}

/* SDM 10.4.7.2: software-disabled, every LVT entry is masked and writes
 * cannot unmask one. */
static void write_svr(struct vlapic *l, uint32_t value)
{
	l->svr = value & APIC_SVR_WRITABLE;
	if (l->svr & APIC_SVR_ENABLE)
		return;
	l->lvt_timer |= APIC_LVT_MASKED;
	l->lvt_thermal |= APIC_LVT_MASKED;
	l->lvt_perf |= APIC_LVT_MASKED;
	l->lvt_lint0 |= APIC_LVT_MASKED;
	l->lvt_lint1 |= APIC_LVT_MASKED;
	l->lvt_error |= APIC_LVT_MASKED;
	l->lvt_cmci |= APIC_LVT_MASKED;
}

static uint32_t lvt_value(const struct vlapic *l, uint32_t value, uint32_t writable)
{
	value &= writable;
	return (l->svr & APIC_SVR_ENABLE) ? value : value | APIC_LVT_MASKED;
}

static bool write_lvt(struct vlapic *l, uint32_t off, uint32_t value)
{
	uint32_t *reg, writable = LVT_LOCAL_WRITABLE;

	switch (off) {
	case APIC_LVT_TIMER:
		vlapic_timer_write_lvt(l, lvt_value(l, value, LVT_TIMER_WRITABLE));
		return true;
	case APIC_LVT_THERMAL: reg = &l->lvt_thermal; break;
	case APIC_LVT_PERF: reg = &l->lvt_perf; break;
	case APIC_LVT_CMCI: reg = &l->lvt_cmci; break;
	case APIC_LVT_LINT0: reg = &l->lvt_lint0; writable = LVT_LINT_WRITABLE; break;
	case APIC_LVT_LINT1: reg = &l->lvt_lint1; writable = LVT_LINT_WRITABLE; break;
	case APIC_LVT_ERROR: reg = &l->lvt_error; writable = LVT_ERROR_WRITABLE; break;
	default: return false;
	}
	*reg = lvt_value(l, value, writable);
	return true;
}

static bool write_reg(struct vlapic *l, uint32_t off, uint32_t value, uint64_t now)
{
	switch (off) {
	case APIC_ID: l->id = value >> 24; return true;
	case APIC_TPR: l->tpr = value & 0xff; return true;
	case APIC_EOI: eoi(l); return true;
	case APIC_LDR: l->ldr = value & 0xff000000u; return true;
	case APIC_DFR: l->dfr = value | 0x0fffffffu; return true;
	case APIC_SVR: write_svr(l, value); return true;
	case APIC_ESR: l->esr = 0; return true;
	case APIC_ICR_HI: l->icr_hi = value & 0xff000000u; return true;
	case APIC_ICR_LO: write_icr(l, value); return true;
	case APIC_TIMER_INIT: vlapic_timer_write_init(l, value, now); return true;
	case APIC_TIMER_DIV: l->timer_div = value & 0xb; return true;
	case APIC_TIMER_CUR:
	case APIC_VERSION:
	case APIC_PPR:
		return true; /* read-only: writes are ignored */
	}
	return write_lvt(l, off, value);
}

bool vlapic_write(struct vlapic *l, uint32_t off, uint32_t value, uint64_t now)
{
	if (!vlapic_hw_enabled(l) || off & 0xf || off >= VLAPIC_SIZE ||
	    !write_reg(l, off, value, now)) {
		l->bad_accesses++;
		return false;
	}
	return true;
}

void vlapic_firmware_virtual_wire(struct vlapic *l, uint64_t now)
{
	vlapic_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xff, now);
	vlapic_write(l, APIC_LVT_LINT0, APIC_DM_EXTINT << APIC_LVT_DM_SHIFT, now);
	vlapic_write(l, APIC_LVT_LINT1, APIC_DM_NMI << APIC_LVT_DM_SHIFT, now);
}
