/* The I/O APIC: registers per the 82093AA datasheet, the EOI register and
 * version 0x20 per the ICH/PCH datasheets. */
#include "hv/vdev/vioapic.h"

#include "hv/lib/string.h"

/* Maximum redirection entry 23 (bits 23:16), version 0x20, no IRQ
 * assertion register (bit 15 clear). */
#define VERSION_VALUE ((uint32_t)(VIOAPIC_PINS - 1) << 16 | 0x20u)
#define ID_MASK 0x0f000000u
#define REDIR_LAST (VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS - 1)
/* Writable bits of the low dword; delivery status and remote IRR are
 * read-only, bits 31:17 reserved. The high dword keeps 31:24 only. */
#define RTE_LOW_WRITABLE (VIOAPIC_RTE_VECTOR | 7ull << VIOAPIC_RTE_DM_SHIFT | \
			  VIOAPIC_RTE_LOGICAL | VIOAPIC_RTE_ACTIVE_LOW | VIOAPIC_RTE_LEVEL | \
			  VIOAPIC_RTE_MASKED)
#define RTE_DEST_MASK (0xffull << VIOAPIC_RTE_DEST_SHIFT)

void vioapic_init(struct vioapic *io, vioapic_deliver_fn deliver, void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->deliver = deliver;
	io->ctx = ctx;
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		io->redir[pin] = VIOAPIC_RTE_MASKED;
}

static unsigned delivery_mode(uint64_t rte)
{
	return (rte >> VIOAPIC_RTE_DM_SHIFT) & 7;
}

/* Only fixed and lowest-priority entries are level-triggered: the 82093AA
 * treats NMI, SMI and INIT as edge even when programmed level, and ExtINT
 * "requires an edge trigger mode". */
static bool level_triggered(uint64_t rte)
{
	unsigned dm = delivery_mode(rte);

	return (rte & VIOAPIC_RTE_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

static bool asserted(const struct vioapic *io, unsigned pin)
{
	bool high = (io->pin_level >> pin) & 1;

	return high != ((io->redir[pin] & VIOAPIC_RTE_ACTIVE_LOW) != 0);
}

static bool send(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->redir[pin];
	unsigned dm = delivery_mode(rte);

	if (dm == 3 || dm == APIC_DM_STARTUP) {
		io->undelivered++; /* reserved delivery modes in a redirection entry */
		return false;
	}
	struct apic_msg m = {
		.vector = (uint8_t)(rte & VIOAPIC_RTE_VECTOR),
		.dest = (uint8_t)(rte >> VIOAPIC_RTE_DEST_SHIFT),
		.dest_logical = (rte & VIOAPIC_RTE_LOGICAL) != 0,
		.delivery = (uint8_t)dm,
		.level = level_triggered(rte),
	};
	io->messages++;
	bool accepted = io->deliver && io->deliver(io->ctx, &m);
	if (!accepted)
		io->undelivered++;
	return accepted;
}

/* A level-triggered entry is sampled whenever something it depends on
 * changes: the pin, the entry, remote IRR. */
static void sample_level(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->redir[pin];

	if (!level_triggered(rte) || (rte & (VIOAPIC_RTE_MASKED | VIOAPIC_RTE_REMOTE_IRR)) ||
	    !asserted(io, pin))
		return;
	if (send(io, pin))
		io->redir[pin] |= VIOAPIC_RTE_REMOTE_IRR;
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	if (pin >= VIOAPIC_PINS) {
		io->bad_pins++;
		return;
	}
	bool was = asserted(io, pin);
	if (level)
		io->pin_level |= 1u << pin;
	else
		io->pin_level &= ~(1u << pin);
	/* 82093AA: "Edge-sensitive interrupts signaled on a masked interrupt
	 * pin are ignored (i.e., not delivered or held pending)." */
	if (io->redir[pin] & VIOAPIC_RTE_MASKED)
		return;
	if (level_triggered(io->redir[pin]))
		sample_level(io, pin);
	else if (!was && asserted(io, pin))
		send(io, pin);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	/* Every entry with the vector first, then resample: a delivery can
	 * reach back into this IOAPIC through the callbacks. */
	uint32_t matched = 0;

	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		if ((io->redir[pin] & VIOAPIC_RTE_VECTOR) == vector) {
			io->redir[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
			matched |= 1u << pin;
		}
	}
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		if (matched & (1u << pin))
			sample_level(io, pin);
}

static void write_redir(struct vioapic *io, unsigned index, uint32_t value)
{
	unsigned pin = (index - VIOAPIC_REG_REDIR) / 2;
	uint64_t rte = io->redir[pin];

	if (index & 1)
		rte = (rte & ~RTE_DEST_MASK) | (((uint64_t)value << 32) & RTE_DEST_MASK);
	else
		rte = (rte & ~RTE_LOW_WRITABLE) | (value & RTE_LOW_WRITABLE);
	/* Remote IRR means nothing for an edge entry (82093AA: "undefined");
	 * it reads 0 so an entry turned back to level does not start blocked. */
	if (!(rte & VIOAPIC_RTE_LEVEL))
		rte &= ~VIOAPIC_RTE_REMOTE_IRR;
	io->redir[pin] = rte;
	sample_level(io, pin); /* e.g. unmasking an asserted level pin */
}

static uint32_t read_indirect(struct vioapic *io)
{
	unsigned sel = io->ioregsel;

	switch (sel) {
	case VIOAPIC_REG_ID: return (uint32_t)io->id << 24;
	case VIOAPIC_REG_VERSION: return VERSION_VALUE;
	case VIOAPIC_REG_ARB: return (uint32_t)io->arb_id << 24;
	}
	if (sel >= VIOAPIC_REG_REDIR && sel <= REDIR_LAST) {
		uint64_t rte = io->redir[(sel - VIOAPIC_REG_REDIR) / 2];
		return (sel & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	io->bad_accesses++;
	return 0; /* reserved: read-only, reads 0 */
}

static void write_indirect(struct vioapic *io, uint32_t value)
{
	unsigned sel = io->ioregsel;

	if (sel == VIOAPIC_REG_ID) {
		/* 82093AA: the arbitration ID is loaded with the same data. */
		io->id = (uint8_t)((value & ID_MASK) >> 24);
		io->arb_id = io->id;
	} else if (sel >= VIOAPIC_REG_REDIR && sel <= REDIR_LAST) {
		write_redir(io, sel, value);
	} else {
		io->bad_accesses++; /* version, arbitration ID, reserved */
	}
}

static bool byte_word_or_dword(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t vioapic_read(struct vioapic *io, uint32_t offset, unsigned size)
{
	if (offset == VIOAPIC_IOREGSEL && byte_word_or_dword(size))
		return io->ioregsel;
	if (offset == VIOAPIC_IOWIN && size == 4)
		return read_indirect(io);
	io->bad_accesses++;
	return all_ones(size);
}

void vioapic_write(struct vioapic *io, uint32_t offset, unsigned size, uint64_t value)
{
	if (offset == VIOAPIC_IOREGSEL && byte_word_or_dword(size))
		io->ioregsel = (uint8_t)value; /* bits 31:8 reserved */
	else if (offset == VIOAPIC_IOWIN && size == 4)
		write_indirect(io, (uint32_t)value);
	else if (offset == VIOAPIC_EOIR && byte_word_or_dword(size))
		vioapic_eoi(io, (uint8_t)value); /* ICH: bits 31:8 are ignored */
	else
		io->bad_accesses++;
}
