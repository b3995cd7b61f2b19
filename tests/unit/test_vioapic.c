/* The I/O APIC: registers, MMIO decoding, edge and level pins, remote IRR
 * and EOI, and the round trip through a local APIC. */
#include <criterion/criterion.h>

#include "hv/vdev/vioapic.h"
#include "hv/vdev/vlapic.h"

static struct vioapic io;
static struct apic_msg sent[16];
static unsigned nsent;
static bool accept = true;

static bool record(void *ctx, const struct apic_msg *m)
{
	cr_assert_eq(ctx, &io);
	sent[nsent++ % 16] = *m;
	return accept;
}

static void setup(void)
{
	vioapic_init(&io, record, &io);
	nsent = 0;
	accept = true;
}

static uint32_t reg(uint8_t index)
{
	vioapic_write(&io, VIOAPIC_IOREGSEL, 4, index);
	return (uint32_t)vioapic_read(&io, VIOAPIC_IOWIN, 4);
}

static void set_reg(uint8_t index, uint32_t value)
{
	vioapic_write(&io, VIOAPIC_IOREGSEL, 1, index);
	vioapic_write(&io, VIOAPIC_IOWIN, 4, value);
}

/* Redirection entry of 'pin': low dword, destination in bits 63:56. */
static void route(unsigned pin, uint32_t low, uint8_t dest)
{
	set_reg((uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
	set_reg((uint8_t)(0x10 + 2 * pin), low);
}

TestSuite(vioapic, .init = setup);

Test(vioapic, identification_registers)
{
	cr_assert_eq(reg(VIOAPIC_REG_VERSION), 0x00170020, "24 entries, version 0x20");
	cr_assert_eq(reg(VIOAPIC_REG_ID), 0);
	set_reg(VIOAPIC_REG_ID, 0xffffffffu);
	cr_assert_eq(reg(VIOAPIC_REG_ID), 0x0f000000, "only bits 27:24 are writable");
	cr_assert_eq(reg(VIOAPIC_REG_ARB), 0x0f000000, "loaded with the ID");
	set_reg(VIOAPIC_REG_VERSION, 0);
	set_reg(VIOAPIC_REG_ARB, 0);
	cr_assert_eq(reg(VIOAPIC_REG_VERSION), 0x00170020);
	cr_assert_eq(reg(VIOAPIC_REG_ARB), 0x0f000000);
	cr_assert_eq(io.bad_accesses, 2, "writes to read-only registers are counted");
	cr_assert_eq(reg(0x03), 0, "reserved");
	cr_assert_eq(reg(0x40), 0, "past the table");
	set_reg(0xff, 1);
	cr_assert_eq(io.bad_accesses, 5);
}

Test(vioapic, redirection_entries)
{
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		cr_assert_eq(reg((uint8_t)(0x10 + 2 * pin)), 0x00010000, "pin %u masked", pin);
		cr_assert_eq(reg((uint8_t)(0x11 + 2 * pin)), 0);
	}
	set_reg(0x3e, 0xffffffffu); /* pin 23 */
	cr_assert_eq(reg(0x3e), 0x0001afff, "delivery status, remote IRR, 31:17 read-only");
	set_reg(0x3f, 0xffffffffu);
	cr_assert_eq(reg(0x3f), 0xff000000, "bits 55:32 reserved");
	cr_assert_eq(io.redir[23], 0xff0000000001afffull);
	cr_assert_eq(nsent, 0, "a masked entry sends nothing");
}

Test(vioapic, mmio_decoding)
{
	vioapic_write(&io, VIOAPIC_IOREGSEL, 4, 0x12345601);
	cr_assert_eq(vioapic_read(&io, VIOAPIC_IOREGSEL, 4), 0x01, "an 8-bit index");
	cr_assert_eq(vioapic_read(&io, VIOAPIC_IOREGSEL, 1), 0x01);
	cr_assert_eq(io.bad_accesses, 0);
	cr_assert_eq(vioapic_read(&io, VIOAPIC_IOWIN, 1), 0xff, "IOWIN is dword-only");
	cr_assert_eq(vioapic_read(&io, VIOAPIC_IOWIN, 8), ~0ull);
	cr_assert_eq(vioapic_read(&io, 0x20, 4), 0xffffffffu);
	cr_assert_eq(vioapic_read(&io, VIOAPIC_EOIR, 4), 0xffffffffu, "EOI is write-only");
	cr_assert_eq(vioapic_read(&io, 0x04, 4), 0xffffffffu);
	cr_assert_eq(io.bad_accesses, 5);
	vioapic_write(&io, VIOAPIC_IOWIN, 2, 0);
	vioapic_write(&io, 0x30, 4, 0);
	vioapic_write(&io, VIOAPIC_IOREGSEL, 8, 0x10);
	cr_assert_eq(io.bad_accesses, 8);
	cr_assert_eq(reg(VIOAPIC_REG_VERSION), 0x00170020, "nothing changed");
}

Test(vioapic, edge_sends_once_per_rising_edge)
{
	route(4, 0x34, 0x01);
	vioapic_set_irq(&io, 4, true);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].vector, 0x34);
	cr_assert_eq(sent[0].dest, 0x01);
	cr_assert_not(sent[0].dest_logical);
	cr_assert_eq(sent[0].delivery, APIC_DM_FIXED);
	cr_assert_not(sent[0].level);
	vioapic_set_irq(&io, 4, true);
	cr_assert_eq(nsent, 1, "no edge");
	vioapic_set_irq(&io, 4, false);
	cr_assert_eq(nsent, 1);
	vioapic_set_irq(&io, 4, true);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(reg(0x18), 0x34, "no remote IRR for edge entries");
	cr_assert_eq(io.messages, 2);
}

Test(vioapic, masked_edges_are_lost)
{
	route(4, 0x10000 | 0x34, 0);
	vioapic_set_irq(&io, 4, true);
	vioapic_set_irq(&io, 4, false);
	route(4, 0x34, 0);
	cr_assert_eq(nsent, 0, "not held pending");
	vioapic_set_irq(&io, 4, true);
	cr_assert_eq(nsent, 1);
}

Test(vioapic, active_low_edge)
{
	vioapic_set_irq(&io, 5, true); /* idle level of an active-low line */
	route(5, 0x2000 | 0x35, 0);
	cr_assert_eq(nsent, 0);
	vioapic_set_irq(&io, 5, false);
	cr_assert_eq(nsent, 1);
	vioapic_set_irq(&io, 5, true);
	cr_assert_eq(nsent, 1);
}

Test(vioapic, level_remote_irr_and_eoi)
{
	route(9, 0x8000 | 0x39, 0);
	vioapic_set_irq(&io, 9, true);
	cr_assert_eq(nsent, 1);
	cr_assert(sent[0].level);
	cr_assert_eq(reg(0x22), 0xc039, "remote IRR set");
	vioapic_set_irq(&io, 9, true);
	cr_assert_eq(nsent, 1, "remote IRR holds further messages");
	vioapic_eoi(&io, 0x38);
	cr_assert_eq(nsent, 1, "another vector");
	vioapic_eoi(&io, 0x39);
	cr_assert_eq(nsent, 2, "still asserted: sent again");
	cr_assert_eq(reg(0x22), 0xc039);
	vioapic_set_irq(&io, 9, false);
	vioapic_write(&io, VIOAPIC_EOIR, 4, 0xffffff39); /* bits 31:8 ignored */
	cr_assert_eq(nsent, 2);
	cr_assert_eq(reg(0x22), 0x8039);
	vioapic_set_irq(&io, 9, true);
	cr_assert_eq(nsent, 3);
}

Test(vioapic, active_low_level)
{
	route(16, 0xa000 | 0x50, 0); /* level, active low; the pin is low: asserted */
	cr_assert_eq(nsent, 1);
	vioapic_set_irq(&io, 16, true);
	vioapic_eoi(&io, 0x50);
	cr_assert_eq(nsent, 1);
	vioapic_set_irq(&io, 16, false);
	cr_assert_eq(nsent, 2);
}

Test(vioapic, eoi_clears_every_entry_with_the_vector)
{
	route(10, 0x8000 | 0x60, 0);
	route(11, 0x8000 | 0x60, 0);
	vioapic_set_irq(&io, 10, true);
	vioapic_set_irq(&io, 11, true);
	cr_assert_eq(nsent, 2);
	vioapic_set_irq(&io, 11, false);
	vioapic_write(&io, VIOAPIC_EOIR, 1, 0x60);
	cr_assert_eq(nsent, 3, "pin 10 resampled, pin 11 idle");
	cr_assert_eq(reg(0x24) & 0x4000, 0x4000);
	cr_assert_eq(reg(0x26) & 0x4000, 0);
}

Test(vioapic, unmasking_an_asserted_level_pin_delivers)
{
	route(12, 0x18000 | 0x62, 0);
	vioapic_set_irq(&io, 12, true);
	cr_assert_eq(nsent, 0);
	route(12, 0x8000 | 0x62, 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(reg(0x28), 0xc062);
}

Test(vioapic, unaccepted_messages_leave_remote_irr_clear)
{
	accept = false;
	route(13, 0x8000 | 0x63, 0);
	vioapic_set_irq(&io, 13, true);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(reg(0x2a), 0x8063);
	cr_assert_eq(io.undelivered, 1);
	accept = true;
	vioapic_eoi(&io, 0x63); /* a resample retries */
	cr_assert_eq(nsent, 2);
	cr_assert_eq(reg(0x2a), 0xc063);
}

Test(vioapic, edge_entries_drop_remote_irr)
{
	route(14, 0x8000 | 0x64, 0);
	vioapic_set_irq(&io, 14, true);
	cr_assert_eq(reg(0x2c), 0xc064);
	route(14, 0x64, 0); /* to edge */
	cr_assert_eq(reg(0x2c), 0x64);
	route(14, 0x8000 | 0x64, 0); /* back to level, still asserted */
	cr_assert_eq(nsent, 2);
	cr_assert_eq(reg(0x2c), 0xc064);
}

Test(vioapic, delivery_modes_and_destinations)
{
	route(2, 0x8000 | 0x800 | 0x400, 0x0f); /* NMI programmed level, logical */
	vioapic_set_irq(&io, 2, true);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].delivery, APIC_DM_NMI);
	cr_assert(sent[0].dest_logical);
	cr_assert_eq(sent[0].dest, 0x0f);
	cr_assert_not(sent[0].level, "NMI is always edge");
	cr_assert_eq(reg(0x14), 0x8c00, "no remote IRR");
	vioapic_set_irq(&io, 2, true);
	cr_assert_eq(nsent, 1);
	route(0, 0x700, 0xff); /* ExtINT */
	vioapic_set_irq(&io, 0, true);
	cr_assert_eq(sent[1].delivery, APIC_DM_EXTINT);
	cr_assert_eq(sent[1].dest, 0xff);
	route(3, 0x300 | 0x40, 0); /* reserved mode */
	vioapic_set_irq(&io, 3, true);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(io.undelivered, 1);
	vioapic_set_irq(&io, 24, true);
	vioapic_set_irq(&io, 1000, false);
	cr_assert_eq(io.bad_pins, 2);
}

/* IOAPIC and local APIC wired as the VM does it. */
static struct vlapic lapic;

static bool to_lapic(void *ctx, const struct apic_msg *m)
{
	(void)ctx;
	return vlapic_is_target(&lapic, m) && vlapic_receive(&lapic, m);
}

static void lapic_eoi(void *ctx, uint8_t vector)
{
	vioapic_eoi(ctx, vector);
}

Test(vioapic_lapic, level_interrupt_round_trip)
{
	vioapic_init(&io, to_lapic, NULL);
	vlapic_init(&lapic, 0, 1000000000ull);
	vlapic_set_eoi_broadcast(&lapic, lapic_eoi, &io);
	vlapic_write(&lapic, APIC_SVR, 0x1ff, 0);
	route(20, 0x8000 | 0x91, 0);
	vioapic_set_irq(&io, 20, true);
	cr_assert_eq(vlapic_pending(&lapic), 0x91);
	uint32_t tmr;
	vlapic_read(&lapic, APIC_TMR + 0x40, &tmr, 0);
	cr_assert_eq(tmr, 1u << 17, "accepted as level-triggered");
	vlapic_accept(&lapic, 0x91);
	vlapic_write(&lapic, APIC_EOI, 0, 0); /* the line is still high */
	cr_assert_eq(lapic.eoi_broadcasts, 1);
	cr_assert_eq(vlapic_pending(&lapic), 0x91, "delivered again");
	cr_assert_eq(io.messages, 2);
	vlapic_accept(&lapic, 0x91);
	vioapic_set_irq(&io, 20, false); /* the device was serviced */
	vlapic_write(&lapic, APIC_EOI, 0, 0);
	cr_assert_eq(vlapic_pending(&lapic), -1);
	cr_assert_eq(io.messages, 2);
	cr_assert_eq(io.redir[20] & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* A destination that is not this APIC: no remote IRR. */
	route(21, 0x8000 | 0x92, 5);
	vioapic_set_irq(&io, 21, true);
	cr_assert_eq(io.undelivered, 1);
	cr_assert_eq(io.redir[21] & VIOAPIC_RTE_REMOTE_IRR, 0);
}
