/* A simulated e1000/e1000e for fuzz_nic_rx: registers in a heap BAR, the
 * reset bit and EEPROM reads completed while the driver waits (the clock
 * hook), and a device side that owns the receive descriptors from its
 * head up to the driver's tail and writes back what the input says. */
#include <stdlib.h>
#include <string.h>

#include "drivers/net/e1000_regs.h"
#include "drivers/net/nic_drivers.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_nic.h"
#include "tests/fuzz/fuzz_pci_sim.h"

#define RING 256 /* the driver's ring size */
#define BAR_BYTES (128 * 1024)

static struct pci_device pci;
static uint8_t *regs;
static bool is_82574, eeprom_dead, reset_stuck;
static uint16_t eeprom[3];
static unsigned rx_head, tx_head; /* the device's RDH and TDH */

static uint32_t reg(uint32_t r)
{
	uint32_t v;

	memcpy(&v, regs + r, 4);
	return v;
}

static void set_reg(uint32_t r, uint32_t v)
{
	memcpy(regs + r, &v, 4);
}

/* While the driver waits: the reset completes, an EEPROM read is done. */
static void device_acts(void)
{
	uint32_t done = is_82574 ? E1000_EERD_DONE_82574 : E1000_EERD_DONE_8254X;
	unsigned shift = is_82574 ? E1000_EERD_ADDR_SHIFT_82574 : E1000_EERD_ADDR_SHIFT_8254X;
	uint32_t eerd = reg(E1000_EERD);

	if (!reset_stuck)
		set_reg(E1000_CTRL, reg(E1000_CTRL) & ~E1000_CTRL_RST);
	if ((eerd & E1000_EERD_START) && !(eerd & done) && !eeprom_dead) {
		unsigned addr = (eerd >> shift) & 0xff;
		set_reg(E1000_EERD, done | (uint32_t)(addr < 3 ? eeprom[addr] : 0xffff) << 16);
	}
}

static struct e1000_rx_desc *rx_ring(void)
{
	return (void *)(uintptr_t)((uint64_t)reg(E1000_RDBAH) << 32 | reg(E1000_RDBAL));
}

static struct e1000_tx_desc *tx_ring(void)
{
	return (void *)(uintptr_t)((uint64_t)reg(E1000_TDBAH) << 32 | reg(E1000_TDBAL));
}

/* Set-up byte: 1 MAC in the receive address registers (else the EEPROM),
 * 2 EEPROM never answers, 4|8 reset never completes, 16 link up, 32 no
 * receive buffers while starting. */
static struct nic *probe(struct fuzz_in *in, bool e1000e)
{
	uint8_t setup = in_u8(in);

	is_82574 = e1000e;
	fuzz_pci_config();
	pci = (struct pci_device){ .vendor = 0x8086, .device = e1000e ? 0x10d3 : 0x100e };
	regs = fuzz_pci_mem_bar(&pci, 0, BAR_BYTES);
	set_reg(E1000_RAL0, in_u32(in));
	set_reg(E1000_RAH0, in_u16(in) | (setup & 1 ? E1000_RAH_AV : 0));
	for (int i = 0; i < 3; i++)
		eeprom[i] = in_u16(in);
	eeprom_dead = setup & 2;
	reset_stuck = (setup & 12) == 12;
	set_reg(E1000_STATUS, setup & 16 ? E1000_STATUS_LU : 0);
	rx_head = tx_head = 0;
	fuzz_time_hook = device_acts;

	struct nic *nic = e1000_driver.probe(&pci, e1000e ? "e1000e" : "e1000");
	if (!nic)
		return NULL;
	nic->client = fuzz_client;
	fuzz_client_starved = setup & 32;
	bool started = nic->ops->start(nic);
	fuzz_client_starved = false;
	if (!started)
		return NULL;
	if (reg(E1000_RDLEN) != RING * sizeof(struct e1000_rx_desc) ||
	    reg(E1000_TDLEN) != RING * sizeof(struct e1000_tx_desc))
		abort();
	return nic;
}

static struct nic *probe_e1000(struct fuzz_in *in)
{
	return probe(in, false);
}

static struct nic *probe_e1000e(struct fuzz_in *in)
{
	return probe(in, true);
}

/* Receives into the descriptors the device owns (head up to the tail).
 * Lengths are the input's, also past the 2048-byte buffer (the bytes the
 * device writes stop there). */
static void rx(struct fuzz_in *in)
{
	struct e1000_rx_desc *ring = rx_ring();
	unsigned count = 1 + in_u8(in) % 16;

	for (unsigned k = 0; k < count && rx_head != reg(E1000_RDT) % RING; k++) {
		struct e1000_rx_desc *d = &ring[rx_head];
		uint16_t len = in_u16(in);
		uint8_t status = in_u8(in);
		uint8_t *buf = fuzz_client_lent(d->addr, NIC_RX_BUF_SIZE);
		if (!buf)
			abort(); /* the driver gave the device a descriptor without a buffer */
		fuzz_fill_frame(buf, len < NIC_RX_BUF_SIZE ? len : NIC_RX_BUF_SIZE, status);
		d->length = len;
		d->status = (uint8_t)(E1000_RXD_STAT_DD | (status & ~E1000_RXD_STAT_DD));
		d->errors = status & 0x80 ? in_u8(in) : 0;
		rx_head = (rx_head + 1) % RING;
		set_reg(E1000_RDH, rx_head);
	}
}

static void tx(struct fuzz_in *in)
{
	struct e1000_tx_desc *ring = tx_ring();
	unsigned count = 1 + in_u8(in) % 16;

	for (unsigned k = 0; k < count && tx_head != reg(E1000_TDT) % RING; k++) {
		struct e1000_tx_desc *d = &ring[tx_head];
		bool context = (d->cmd & E1000_TXD_CMD_DEXT) && !(d->cso & E1000_TXD_DATA_CSO);
		if (!context && !fuzz_client_sent(d->addr, d->length))
			abort(); /* the device was told to send memory nobody sent */
		d->status |= E1000_TXD_STAT_DD;
		tx_head = (tx_head + 1) % RING;
		set_reg(E1000_TDH, tx_head);
	}
}

/* Any descriptor's write-back fields, whoever owns it. */
static void hostile(struct fuzz_in *in)
{
	unsigned i = in_u8(in);
	uint8_t what = in_u8(in);

	if (what & 1) {
		struct e1000_rx_desc *d = &rx_ring()[i];
		d->status = in_u8(in);
		d->errors = in_u8(in);
		d->length = in_u16(in);
	} else {
		tx_ring()[i].status = in_u8(in);
	}
}

static int by_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every slot holds one buffer of its own, and no buffer is lent besides:
 * one more would be lost, one less handed up while the device may still
 * write it. */
static void check(void)
{
	struct e1000_rx_desc *ring = rx_ring();
	uint64_t addrs[RING];

	if (fuzz_client_lent_count() != RING)
		abort();
	for (unsigned i = 0; i < RING; i++) {
		addrs[i] = ring[i].addr;
		if (!fuzz_client_lent(addrs[i], NIC_RX_BUF_SIZE))
			abort();
	}
	qsort(addrs, RING, sizeof(addrs[0]), by_addr);
	for (unsigned i = 1; i < RING; i++)
		if (addrs[i] == addrs[i - 1])
			abort();
}

static void release(void)
{
	fuzz_pci_free_bars(&pci);
	regs = NULL;
}

const struct nic_model fuzz_e1000_model = { probe_e1000, rx, tx, hostile, check, release };
const struct nic_model fuzz_e1000e_model = { probe_e1000e, rx, tx, hostile, check, release };
