/* The system bus between a VM's local APICs (SDM vol. 3A 10.6): an IPI
 * from one APIC's ICR, or an IOAPIC message, reaches every APIC it
 * addresses. Lowest-priority messages go to one of the addressed APICs,
 * the one with the lowest processor priority (10.6.2.4); ties rotate. */
#ifndef HV_VDEV_APIC_BUS_H
#define HV_VDEV_APIC_BUS_H

#include <stdbool.h>

#include "hv/vdev/apic_msg.h"
#include "hv/vdev/vlapic.h"

/* Called for each APIC that accepted a message, by index: its vCPU may
 * run on another CPU, which must look at it again. */
typedef void (*apic_bus_delivered_fn)(void *ctx, unsigned index);

struct apic_bus {
	struct vlapic *const *apics; /* by vCPU index */
	unsigned count;
	unsigned lowest_rr;          /* where the next tie-break starts */
	apic_bus_delivered_fn delivered; /* NULL: nobody to tell */
	void *delivered_ctx;
};

/* An IPI from `from` (one of the bus's APICs) with its ICR shorthand.
 * Returns how many APICs accepted it. */
unsigned apic_bus_send(struct apic_bus *bus, struct vlapic *from, const struct apic_msg *m,
		       enum apic_shorthand sh);
/* A message from the IOAPIC (no shorthand). Returns whether an APIC
 * accepted it (the IOAPIC sets remote IRR only then). */
bool apic_bus_deliver(struct apic_bus *bus, const struct apic_msg *m);

#endif
