/* An I/O APIC as the Intel 82093AA datasheet and the ICH/PCH describe it:
 * IOAPIC version 0x20 (with the EOI register), 24 redirection entries.
 *
 * MMIO (a 4 KiB page, VIOAPIC_BASE on this platform; the model takes
 * offsets into it): IOREGSEL at 0x00 (8-bit register index, reads back;
 * 1-, 2- or 4-byte accesses), IOWIN at 0x10 (the selected register, 4-byte
 * accesses only), EOI at 0x40 (write-only: bits 7:0 a vector). Indirect
 * registers: 0x00 ID (bits 27:24), 0x01 version (0x00170020), 0x02
 * arbitration ID (read-only, loaded with the ID), 0x10-0x3f the
 * redirection table (low dword at 0x10 + 2n, high dword above it).
 *
 * Input pins take electrical levels (vioapic_set_irq); each entry's
 * polarity says which level asserts it. Interrupts go out as struct
 * apic_msg through the deliver callback; EOIs come back through
 * vioapic_eoi() (the local APIC's broadcast) or the EOI register. */
#ifndef HV_VDEV_VIOAPIC_H
#define HV_VDEV_VIOAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/apic_msg.h"

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_SIZE 0x1000ull
#define VIOAPIC_PINS 24

/* Direct (MMIO) registers. */
enum { VIOAPIC_IOREGSEL = 0x00, VIOAPIC_IOWIN = 0x10, VIOAPIC_EOIR = 0x40 };
/* Indirect registers, selected through IOREGSEL. */
enum { VIOAPIC_REG_ID = 0x00, VIOAPIC_REG_VERSION = 0x01, VIOAPIC_REG_ARB = 0x02,
       VIOAPIC_REG_REDIR = 0x10 };

/* Redirection table entry (82093AA 3.2.4). */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_DM_SHIFT 8 /* delivery mode, enum apic_delivery */
#define VIOAPIC_RTE_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_DELIVERY_STATUS (1ull << 12) /* read-only, always idle here */
#define VIOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)      /* read-only */
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

/* Sends one message to the local APIC(s) it addresses. Returns whether at
 * least one accepted it: only then does a level-triggered entry set remote
 * IRR (82093AA: "set to 1 when local APIC(s) accept the level interrupt"). */
typedef bool (*vioapic_deliver_fn)(void *ctx, const struct apic_msg *msg);

struct vioapic {
	/* Guest state (what migration must carry). */
	uint8_t ioregsel;
	uint8_t id;        /* ID register bits 27:24 */
	uint8_t arb_id;    /* arbitration ID bits 27:24 */
	uint32_t pin_level; /* electrical level of each input, bit n = pin n */
	uint64_t redir[VIOAPIC_PINS]; /* with remote IRR (bit 14) */

	/* Wiring, set by the VM. */
	vioapic_deliver_fn deliver;
	void *ctx;

	/* Counters (diagnostics). */
	uint64_t messages;     /* interrupt messages sent */
	uint64_t undelivered;  /* not accepted by any APIC, or a reserved delivery mode */
	uint64_t bad_accesses; /* undecoded offsets/widths, reserved or read-only registers */
	uint64_t bad_pins;     /* vioapic_set_irq() with a pin >= VIOAPIC_PINS */
};

/* Reset state: ID 0, every entry masked (0x10000), all pins low. */
void vioapic_init(struct vioapic *io, vioapic_deliver_fn deliver, void *ctx);

/* MMIO access of size 1, 2, 4 or 8 bytes at an offset into the page.
 * Accesses the chip does not decode (other offsets, IOWIN other than 4
 * bytes, reading EOI) are counted: writes are ignored, reads give all ones
 * (nothing drives the bus). Reserved indirect registers read 0. */
uint64_t vioapic_read(struct vioapic *io, uint32_t offset, unsigned size);
void vioapic_write(struct vioapic *io, uint32_t offset, unsigned size, uint64_t value);

/* Input pin 'pin' is now at electrical level 'level' (true = high). With
 * the entry's polarity, that asserts or deasserts it: an edge-triggered
 * entry sends one message on assertion; a level-triggered one sends while
 * asserted and remote IRR is clear. Masked pins ignore changes. */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);

/* An EOI for 'vector' (the local APIC's broadcast, or the EOI register):
 * clears remote IRR of every entry with that vector; a level-triggered pin
 * still asserted sends again. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

/* Migration (vioapic_state.c; layout and checks in docs/device-state.md). */
#define VIOAPIC_STATE_SIZE 199 /* ioregsel, id, arb_id, pin_level, 24 entries */
/* The guest state (ioregsel, id, arb_id, pin_level, redir[24]) as a blob
 * of exactly VIOAPIC_STATE_SIZE bytes. Returns the size, or 0 when 'size'
 * is too small. Counters and wiring are not included. */
size_t vioapic_save(const struct vioapic *io, uint8_t *buf, size_t size);
/* Checks every field as the IOAPIC's registers would allow, and only when
 * all of it is acceptable replaces the guest state, keeping wiring and
 * counters. Returns 0, or -1 with the reason (naming the field) in err and
 * the IOAPIC unchanged. Nothing is sent on load: remote IRR and the pin
 * levels travel as they are, and an asserted level entry without remote
 * IRR (its last message found no taker) is sampled again on its next pin
 * change, entry write or EOI, as on the source. */
int vioapic_load(struct vioapic *io, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
