/* Interrupt acceptance of the local APIC: fixed interrupts into the IRR
 * with their trigger mode (SDM 10.8.4), messages and their destinations
 * (10.6.2), priorities (10.8.3), the LINT pins and NMIs. */
#include "hv/vdev/vlapic.h"

#include "hv/vdev/vlapic_priv.h"

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isr = vlapic_highest(l->isr);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xf0;

	return (l->tpr & 0xf0) >= isrv ? l->tpr & 0xff : isrv;
}

bool vlapic_raise_level(struct vlapic *l, int vector, bool level_triggered)
{
	/* Vectors 0-15 are illegal (SDM 10.5.2); a disabled APIC accepts no
	 * fixed interrupts (10.4.7.2 lists only INIT, NMI, SMI and SIPI). */
	if (vector < 16 || vector > 255 || !vlapic_enabled(l)) {
		l->irqs_dropped++;
		return false;
	}
	vlapic_set_bit(l->irr, (unsigned)vector);
	/* 10.8.4: "the corresponding TMR bit is cleared for edge-triggered
	 * interrupts and set for level-triggered interrupts". */
	if (level_triggered)
		vlapic_set_bit(l->tmr, (unsigned)vector);
	else
		vlapic_clear_bit(l->tmr, (unsigned)vector);
	return true;
}

void vlapic_raise(struct vlapic *l, int vector)
{
	vlapic_raise_level(l, vector, false);
}

int vlapic_pending(const struct vlapic *l)
{
	int v = vlapic_highest(l->irr);

	if (v < 0 || !vlapic_hw_enabled(l))
		return -1;
	if (((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0))
		return -1;
	return v;
}

int vlapic_in_service(const struct vlapic *l)
{
	return vlapic_highest(l->isr);
}

void vlapic_accept(struct vlapic *l, int vector)
{
	if (vector < 0 || vector > 255) {
		l->bad_accesses++;
		return;
	}
	vlapic_clear_bit(l->irr, (unsigned)vector);
	vlapic_set_bit(l->isr, (unsigned)vector);
}

bool vlapic_is_target(const struct vlapic *l, const struct apic_msg *m)
{
	if (!vlapic_hw_enabled(l))
		return false;
	if (m->dest == APIC_DEST_BROADCAST)
		return true;
	if (!m->dest_logical)
		return m->dest == (l->id & 0xff);
	uint32_t logical_id = l->ldr >> 24;
	switch (l->dfr >> 28) {
	case 0xf: /* flat: a bit per APIC */
		return (logical_id & m->dest) != 0;
	case 0x0: /* cluster: cluster in bits 7:4, a bit per APIC in 3:0 */
		return (logical_id >> 4) == (uint32_t)(m->dest >> 4) &&
		       (logical_id & m->dest & 0xf) != 0;
	default: /* reserved models address nobody */
		return false;
	}
}

bool vlapic_receive(struct vlapic *l, const struct apic_msg *m)
{
	if (!vlapic_hw_enabled(l)) {
		l->irqs_dropped++;
		return false;
	}
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST: /* one APIC: it is the lowest-priority one */
		return vlapic_raise_level(l, m->vector, m->level);
	case APIC_DM_NMI:
		l->nmi_pending = true;
		return true;
	case APIC_DM_INIT:
		l->init_pending = true;
		return true;
	case APIC_DM_STARTUP:
		/* Only a CPU waiting for SIPI acts on it (the vCPU decides). */
		l->sipi_vector = m->vector;
		l->sipi_pending = true;
		return true;
	default:
		l->msgs_ignored++;
		return false;
	}
}

bool vlapic_take_init(struct vlapic *l)
{
	bool pending = l->init_pending;

	l->init_pending = false;
	return pending;
}

int vlapic_take_sipi(struct vlapic *l)
{
	if (!l->sipi_pending)
		return -1;
	l->sipi_pending = false;
	return l->sipi_vector;
}

bool vlapic_accepts_extint(const struct vlapic *l)
{
	if (!vlapic_hw_enabled(l))
		return true;
	return !(l->lvt_lint0 & APIC_LVT_MASKED) && vlapic_lvt_mode(l->lvt_lint0) == APIC_DM_EXTINT;
}

void vlapic_lint_pulse(struct vlapic *l, unsigned pin)
{
	if (pin > 1) {
		l->bad_accesses++;
		return;
	}
	if (!vlapic_hw_enabled(l)) {
		/* Without an APIC, LINT1 is the NMI pin; LINT0 is INTR, which
		 * vlapic_accepts_extint() answers for. */
		if (pin == 1)
			l->nmi_pending = true;
		return;
	}
	uint32_t lvt = pin ? l->lvt_lint1 : l->lvt_lint0;
	if (lvt & APIC_LVT_MASKED) {
		l->irqs_dropped++;
		return;
	}
	switch (vlapic_lvt_mode(lvt)) {
	case APIC_DM_FIXED: vlapic_raise(l, lvt & APIC_LVT_VECTOR); return;
	case APIC_DM_NMI: l->nmi_pending = true; return;
	case APIC_DM_EXTINT: return; /* the 8259 supplies the vector */
	default: l->msgs_ignored++; return;
	}
}

bool vlapic_take_nmi(struct vlapic *l)
{
	bool pending = l->nmi_pending;

	l->nmi_pending = false;
	return pending;
}
