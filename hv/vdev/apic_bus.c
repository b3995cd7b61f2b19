#include "hv/vdev/apic_bus.h"

#include "hv/vdev/vlapic_priv.h"

static bool addressed(const struct vlapic *apic, const struct vlapic *from,
		      const struct apic_msg *m, enum apic_shorthand sh)
{
	switch (sh) {
	case APIC_SH_SELF: return apic == from;
	case APIC_SH_ALL: return vlapic_hw_enabled(apic);
	case APIC_SH_OTHERS: return apic != from && vlapic_hw_enabled(apic);
	default: return vlapic_is_target(apic, m);
	}
}

/* 10.6.2.4: the addressed APIC with the lowest priority (PPR class here)
 * takes the interrupt; equal priorities rotate, as no arbitration ID
 * distinguishes vCPUs. */
static int lowest_priority(struct apic_bus *bus, const struct vlapic *from,
			   const struct apic_msg *m, enum apic_shorthand sh)
{
	struct vlapic *best = NULL;
	unsigned best_at = 0;
	uint32_t best_ppr = 0;

	for (unsigned k = 0; k < bus->count; k++) {
		unsigned i = (bus->lowest_rr + k) % bus->count;
		struct vlapic *apic = bus->apics[i];
		if (!addressed(apic, from, m, sh) || !vlapic_enabled(apic))
			continue;
		uint32_t ppr = vlapic_ppr(apic) & 0xf0;
		if (!best || ppr < best_ppr) {
			best = apic;
			best_ppr = ppr;
			best_at = i;
		}
	}
	if (!best)
		return -1;
	bus->lowest_rr = (best_at + 1) % bus->count;
	return (int)best_at;
}

static bool receive(struct apic_bus *bus, unsigned i, const struct apic_msg *m)
{
	if (!vlapic_receive(bus->apics[i], m))
		return false;
	if (bus->delivered)
		bus->delivered(bus->delivered_ctx, i);
	return true;
}

unsigned apic_bus_send(struct apic_bus *bus, struct vlapic *from, const struct apic_msg *m,
		       enum apic_shorthand sh)
{
	unsigned accepted = 0;

	if (m->delivery == APIC_DM_LOWEST) {
		int target = lowest_priority(bus, from, m, sh);
		return target >= 0 && receive(bus, (unsigned)target, m);
	}
	for (unsigned i = 0; i < bus->count; i++)
		if (addressed(bus->apics[i], from, m, sh) && receive(bus, i, m))
			accepted++;
	return accepted;
}

bool apic_bus_deliver(struct apic_bus *bus, const struct apic_msg *m)
{
	return apic_bus_send(bus, NULL, m, APIC_SH_NONE) > 0;
}
