/* An interrupt line a device model drives. The device knows only "my line
 * is high/low"; the VM's platform (hv/vm) decides where the line goes (the
 * 8259 pair and the IOAPIC for ISA IRQs, an IOAPIC pin for PCI INTx). */
#ifndef HV_VDEV_IRQ_H
#define HV_VDEV_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set)(void *ctx, unsigned line, bool level);
	void *ctx;
	unsigned line;
};

static inline void irq_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->ctx, l->line, level);
}

/* An edge: what an edge-triggered input sees of a device that pulses. */
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set(l, true);
	irq_set(l, false);
}

#endif
