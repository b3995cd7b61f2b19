/* The PC's Intel 8254 programmable interval timer and the channel 2 bits
 * of port B (0x61).
 *
 * Counters 0-2 at ports 0x40-0x42, the control word at 0x43, all clocked
 * at VPIT_HZ (1.193182 MHz) from VM time: PIT clock k is the k-th clock
 * since VM time 0, so counts, OUT levels and the refresh toggle are all
 * functions of now_ns. Gates 0 and 1 are tied high as on a PC; gate 2 is
 * port 0x61 bit 0. OUT0 drives IRQ0 (8259 input 0 and IOAPIC pin 2, both
 * edge-triggered on a PC): each rising edge of OUT0 is one irq_pulse().
 * OUT1 (DRAM refresh on the AT) goes nowhere; OUT2 is port 0x61 bit 5.
 * Binary and BCD counting, all six modes, counter latch and read-back.
 *
 * Port 0x61 reads: bit 0 gate 2, bit 1 speaker data enable, bits 2-3 (the
 * NMI enables) as written; bit 4 the refresh toggle, flipping every 18 PIT
 * clocks (15.09 us, the AT's refresh period); bit 5 OUT2; bits 6-7 (NMI
 * sources) 0. Writes to bits 4-7 are ignored (read-only on the chipset).
 *
 * Timer events: vpit_next_event() says when OUT0 next rises; the VM calls
 * vpit_advance() at or after that time. Port writes deliver what is due
 * themselves before they change anything, so a reprogrammed counter never
 * loses or misplaces an edge that was due before the write.
 *
 * Guest state: every field of struct vpit_counter, pit->port_b and
 * pit->irq_tick (edges up to that clock are delivered). Wiring: pit->irq0.
 * Statistics: irq_edges, irq_coalesced, bad_io, bad_values. */
#ifndef HV_VDEV_VPIT_H
#define HV_VDEV_VPIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"
#include "hv/vdev/vpit_counter.h"

#define VPIT_PORT 0x40   /* counters 0-2 at 0x40-0x42, control word at 0x43 */
#define VPIT_PORT_B 0x61

struct vpit {
	struct vpit_counter ch[3];
	uint8_t port_b;     /* port 0x61 bits 3-0 as written */
	uint64_t irq_tick;
	uint64_t irq_edges;     /* IRQ0 pulses given */
	uint64_t irq_coalesced; /* OUT0 edges folded into another pulse by a late advance */
	uint64_t bad_io;        /* undecoded ports, odd sizes, reads of the control port */
	uint64_t bad_values;    /* reserved bits, illegal counts, bad BCD digits */
	struct irq_line irq0;
};

/* The state a PC BIOS leaves: counter 0 in mode 3 with count 0 (18.2 Hz
 * on IRQ0), counter 1 in mode 2 with count 18, counter 2 in mode 3 with no
 * count, gate 2 and the speaker off; counting starts at now_ns. irq0 may
 * be NULL (no line). */
void vpit_init(struct vpit *pit, const struct irq_line *irq0, uint64_t now_ns);

/* Guest port accesses (0x40-0x43, 0x61) of size 1, 2 or 4, split into
 * byte accesses at port, port + 1, ... as on the ISA bus. Bytes at ports
 * the PIT does not decode, and reads of 0x43 (write only), read as 0xff
 * and are counted; other sizes read as all ones.
 * @pre now_ns never goes backwards between calls. */
uint32_t vpit_read(struct vpit *pit, uint16_t port, unsigned size, uint64_t now_ns);
void vpit_write(struct vpit *pit, uint16_t port, unsigned size, uint32_t value,
		uint64_t now_ns);

/* The VM time at which OUT0 next rises and vpit_advance() has an edge to
 * deliver (possibly already past), or UINT64_MAX if none will come. */
uint64_t vpit_next_event(const struct vpit *pit, uint64_t now_ns);

/* Delivers the IRQ0 edges due up to now_ns as one pulse at most: edges
 * that piled up while the VM was not run (a descheduled VM) are counted in
 * irq_coalesced, not replayed. An edge-triggered IRR holds one request per
 * input anyway, and Linux measures time by its clocksource, not by
 * counting PIT interrupts, so a burst would only cost it time. */
void vpit_advance(struct vpit *pit, uint64_t now_ns);

/* Migration (vpit_state.c; layout and checks in docs/device-state.md). */
#define VPIT_STATE_SIZE 189 /* 60 bytes per counter, port_b, irq_tick */
/* The guest state (the three counters, port_b, irq_tick) as a blob of
 * exactly VPIT_STATE_SIZE bytes. Returns the size, or 0 when 'size' is too
 * small. Counters and wiring are not included. */
size_t vpit_save(const struct vpit *pit, uint8_t *buf, size_t size);
/* Checks every field as the 8254's ports and gates would allow, and only
 * when all of it is acceptable replaces the guest state, keeping wiring
 * and counters. Returns 0, or -1 with the reason (naming the field) in err
 * and the PIT unchanged. OUT0 has no level to re-drive (IRQ0 is edges);
 * the caller asks vpit_next_event() again afterwards.
 * @pre the VM clock goes on from the source's: the next call's now_ns is
 * at or after the saved irq_tick. */
int vpit_load(struct vpit *pit, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
