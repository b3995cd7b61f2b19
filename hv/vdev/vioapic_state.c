/* The IOAPIC's state blob (docs/device-state.md): only values its
 * registers and pins can produce (vioapic.c) are accepted. */
#include "hv/vdev/vioapic.h"

#include "hv/vdev/vdev_state.h"

#define ID_MAX 0x0f
/* What an entry keeps: the writable low bits (vector, delivery mode,
 * destination mode, polarity, trigger mode, mask), remote IRR and the
 * destination (bits 63-56). Delivery status (bit 12) is checked apart:
 * it always reads idle here, as deliveries take no time. */
#define RTE_KEPT (VIOAPIC_RTE_VECTOR | 7ull << VIOAPIC_RTE_DM_SHIFT | VIOAPIC_RTE_LOGICAL | \
		  VIOAPIC_RTE_ACTIVE_LOW | VIOAPIC_RTE_REMOTE_IRR | VIOAPIC_RTE_LEVEL | \
		  VIOAPIC_RTE_MASKED | 0xffull << VIOAPIC_RTE_DEST_SHIFT)

_Static_assert(VIOAPIC_STATE_SIZE == 3 + 4 + 8 * VIOAPIC_PINS, "layout in docs/device-state.md");

size_t vioapic_save(const struct vioapic *io, uint8_t *buf, size_t size)
{
	if (size < VIOAPIC_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VIOAPIC_STATE_SIZE);
	wput8(&w, io->ioregsel);
	wput8(&w, io->id);
	wput8(&w, io->arb_id);
	wput32(&w, io->pin_level);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		wput64(&w, io->redir[pin]);
	return VIOAPIC_STATE_SIZE;
}

/* Remote IRR is set only for a level-triggered entry, and writing the
 * entry as edge clears it (vioapic.c write_redir). */
static void check_entry(struct vdev_state_reader *r, unsigned pin, uint64_t rte)
{
	vdev_state_check(r, !(rte & VIOAPIC_RTE_DELIVERY_STATUS),
			 "redir[%u] 0x%016llx: delivery status set", pin, (unsigned long long)rte);
	vdev_state_check(r, !(rte & ~(RTE_KEPT | VIOAPIC_RTE_DELIVERY_STATUS)),
			 "redir[%u] 0x%016llx: reserved bits set", pin, (unsigned long long)rte);
	vdev_state_check(r, !(rte & VIOAPIC_RTE_REMOTE_IRR) || (rte & VIOAPIC_RTE_LEVEL),
			 "redir[%u] 0x%016llx: remote IRR on an edge-triggered entry", pin,
			 (unsigned long long)rte);
}

int vioapic_load(struct vioapic *io, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vioapic next = *io; /* wiring and counters stay */

	if (!vdev_state_begin(&r, "vioapic", buf, len, VIOAPIC_STATE_SIZE, err, errlen))
		return -1;
	next.ioregsel = wget8(&r.c); /* all 8 bits read back */
	next.id = wget8(&r.c);
	next.arb_id = wget8(&r.c);
	next.pin_level = wget32(&r.c);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		next.redir[pin] = wget64(&r.c);
	if (vdev_state_end(&r))
		return -1;
	/* The ID register keeps bits 27-24; the arbitration ID is loaded with
	 * it on every ID write and changes no other way in this model. */
	vdev_state_check(&r, next.id <= ID_MAX, "id 0x%02x: the register keeps 4 bits", next.id);
	vdev_state_check(&r, next.arb_id == next.id, "arb_id 0x%02x differs from id 0x%02x",
			 next.arb_id, next.id);
	vdev_state_check(&r, !(next.pin_level >> VIOAPIC_PINS),
			 "pin_level 0x%08x: levels of pins past 23", next.pin_level);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		check_entry(&r, pin, next.redir[pin]);
	if (vdev_state_end(&r))
		return -1;
	*io = next;
	return 0;
}
