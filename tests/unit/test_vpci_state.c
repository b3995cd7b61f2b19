/* The PCI bus's state blob: CONFIG_ADDRESS and every registered function's
 * bytes, checked against the destination's registrations and masks. */
#include "hv/vdev/vpci.h"
#include "state_test.h"

#define ENTRY(i) (5 + 257 * (i))
#define CFG(i, reg) (ENTRY(i) + 1 + (reg))

/* A bus with the host bridge, a NIC-like 00:03.0 (I/O and memory BARs,
 * INTA#) and a 00:04.0 with a 64-bit prefetchable BAR. */
struct bus {
	struct vpci pci;
	struct vpci_config nic, gpu;
};

static void add_nic(struct bus *b)
{
	vpci_config_init(&b->nic, 0x1af4, 0x1000, 0x020000, 0, 0);
	vpci_config_set_bar(&b->nic, 0, VPCI_BAR_IO, 32, false);
	vpci_config_set_bar(&b->nic, 1, VPCI_BAR_MEM32, 4096, false);
	vpci_config_set_interrupt_pin(&b->nic, 1);
	cr_assert(vpci_register(&b->pci, 3, 0, &b->nic, NULL, NULL));
}

static void add_gpu(struct bus *b)
{
	vpci_config_init(&b->gpu, 0x1234, 0x1111, 0x030000, 2, 0);
	vpci_config_set_bar(&b->gpu, 2, VPCI_BAR_MEM64, 1ull << 24, true);
	cr_assert(vpci_register(&b->pci, 4, 0, &b->gpu, NULL, NULL));
}

static void fresh(struct bus *b, bool gpu_first)
{
	vpci_init(&b->pci);
	if (gpu_first)
		add_gpu(b);
	add_nic(b);
	if (!gpu_first)
		add_gpu(b);
}

static void cfg_write(struct vpci *p, unsigned devfn, unsigned reg, unsigned width, uint32_t v)
{
	cr_assert(vpci_io_write(p, 0, 4, 0x80000000u | devfn << 8 | (reg & 0xfc)));
	cr_assert(vpci_io_write(p, 4 + (reg & 3), width, v));
}

/* What firmware and a driver leave: BARs placed, decoding and bus
 * mastering on, interrupt line, latency timer, the host bridge's SERR#,
 * and CONFIG_ADDRESS left on the GPU's BAR2. */
static void busy(struct vpci *p)
{
	cfg_write(p, 0x18, PCI_BAR0, 4, 0xc040);
	cfg_write(p, 0x18, PCI_BAR0 + 4, 4, 0xfebf1000);
	cfg_write(p, 0x18, PCI_COMMAND, 2,
		  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(p, 0x18, PCI_INTERRUPT_LINE, 1, 11);
	cfg_write(p, 0x18, PCI_LATENCY_TIMER, 1, 0x40);
	cfg_write(p, 0x20, PCI_BAR0 + 8, 4, 0xfd000000);
	cfg_write(p, 0x20, PCI_BAR0 + 12, 4, 0x1);
	cfg_write(p, 0x20, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(p, 0x00, PCI_COMMAND, 2, PCI_COMMAND_SERR);
	cr_assert(vpci_io_write(p, 0, 4, 0x80002018));
}

static void drive(struct vpci *p, struct st_transcript *t)
{
	uint32_t v = 0;

	cr_assert(vpci_io_read(p, 0, 4, &v));
	st_note(t, v);
	cr_assert(vpci_io_read(p, 4, 4, &v)); /* what CONFIG_ADDRESS selects */
	st_note(t, v);
	for (unsigned devfn = 0; devfn < 0x28; devfn += 8)
		for (unsigned reg = 0; reg < 0x40; reg += 4)
			st_note(t, vpci_ecam_read(p, devfn << 12 | reg, 4));
	uint64_t addr = 0;
	bool enabled = false;
	cr_assert(vpci_config_bar(vpci_function_config(p, 4, 0), 2, &addr, &enabled));
	st_note(t, addr);
	st_note(t, enabled);
}

Test(vpci_state, round_trip_keeps_bytes_and_behaviour)
{
	static struct bus a, b;
	struct st_transcript ta = { 0 }, tb = { 0 };
	uint8_t blob[VPCI_STATE_MAX_SIZE], again[VPCI_STATE_MAX_SIZE];
	char err[160] = "";

	fresh(&a, false);
	busy(&a.pci);
	cr_assert_eq(vpci_state_size(&a.pci), 5 + 3 * 257);
	cr_assert_eq(vpci_save(&a.pci, blob, sizeof(blob)), 5 + 3 * 257);
	fresh(&b, false);
	b.pci.bad_accesses = 2;
	cr_assert_eq(vpci_load(&b.pci, blob, 5 + 3 * 257, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.pci.bad_accesses, 2, "counters stay");
	cr_assert_eq(vpci_save(&b.pci, again, sizeof(again)), 5 + 3 * 257);
	cr_assert_arr_eq(blob, again, 5 + 3 * 257);
	drive(&a.pci, &ta);
	drive(&b.pci, &tb);
	st_assert_same(&ta, &tb);
	cr_assert_eq(tb.v[tb.n - 2], 0x1fd000000ull, "the 64-bit BAR's address");
	cr_assert_eq(tb.v[tb.n - 1], 1);
}

/* Registered in another order on the destination: the same functions. */
Test(vpci_state, registration_order_does_not_matter)
{
	static struct bus a, b;
	struct st_transcript ta = { 0 }, tb = { 0 };
	uint8_t blob[VPCI_STATE_MAX_SIZE];
	char err[160] = "";

	fresh(&a, false);
	busy(&a.pci);
	size_t n = vpci_save(&a.pci, blob, sizeof(blob));
	fresh(&b, true);
	cr_assert_eq(vpci_load(&b.pci, blob, n, err, sizeof(err)), 0, "%s", err);
	drive(&a.pci, &ta);
	drive(&b.pci, &tb);
	st_assert_same(&ta, &tb);
}

Test(vpci_state, sizes)
{
	static struct bus a;
	uint8_t blob[VPCI_STATE_MAX_SIZE + 257] = { 0 };
	char err[160];

	fresh(&a, false);
	cr_assert_eq(vpci_save(&a.pci, blob, 5 + 3 * 257 - 1), 0);
	cr_assert_eq(vpci_save(&a.pci, blob, sizeof(blob)), 5 + 3 * 257);
	st_assert_error(vpci_load(&a.pci, blob, 4, err, sizeof(err)), err,
			"vpci: state is 4 bytes: not 5 + 257 per function, at most 4117");
	st_assert_error(vpci_load(&a.pci, blob, 5 + 3 * 257 - 1, err, sizeof(err)), err,
			"vpci: state is 775 bytes: not 5 + 257 per function");
	st_assert_error(vpci_load(&a.pci, blob, 5 + 3 * 257 + 1, err, sizeof(err)), err,
			"vpci: state is 777 bytes: not 5 + 257 per function");
	st_assert_error(vpci_load(&a.pci, blob, VPCI_STATE_MAX_SIZE + 257, err, sizeof(err)), err,
			"vpci: state is 4374 bytes: not 5 + 257 per function, at most 4117");
	cr_assert_eq(VPCI_STATE_MAX_SIZE, 4117);
}

static const struct st_case cases[] = {
	{ { { 4, 1, 2 } }, "count 2 but 3 entries follow" },
	{ { { 0, 4, 0x80000001 } }, "address 0x80000001: bits 30-24 and 1-0 read 0" },
	{ { { 0, 4, 0x01000000 } }, "address 0x01000000: bits 30-24 and 1-0 read 0" },
	{ { { ENTRY(2), 1, 0x30 } }, "function 00:06.0 is not registered here" },
	{ { { ENTRY(2), 1, 0x18 } }, "function 00:03.0 appears twice" },
	{ { { CFG(1, PCI_VENDOR_ID), 1, 0xf5 } },
	  "function 00:03.0 config[0x00] 0xf5: read-only bits 0x01 differ from 0xf4" },
	{ { { CFG(0, PCI_COMMAND), 1, 0x07 } },
	  "function 00:00.0 config[0x04] 0x07: read-only bits 0x01 differ from 0x06" },
	{ { { CFG(1, PCI_STATUS + 1), 1, 0x80 } },
	  "function 00:03.0 config[0x07] 0x80: read-only bits 0x80 differ from 0x00" },
	{ { { CFG(1, PCI_BAR0), 1, 0x00 } },
	  "function 00:03.0 config[0x10] 0x00: read-only bits 0x01 differ from 0x41" },
	{ { { CFG(2, PCI_BAR0 + 8), 1, 0x04 } },
	  "function 00:04.0 config[0x18] 0x04: read-only bits 0x08 differ from 0x0c" },
	{ { { CFG(1, PCI_INTERRUPT_PIN), 1, 0x02 } },
	  "function 00:03.0 config[0x3d] 0x02: read-only bits 0x03 differ from 0x01" },
	{ { { CFG(2, 0xff), 1, 0x01 } },
	  "function 00:04.0 config[0xff] 0x01: read-only bits 0x01 differ from 0x00" },
};

static bool same_bus(const struct bus *x, const struct bus *y)
{
	return !memcmp(&x->pci, &y->pci, sizeof(x->pci)) &&
	       !memcmp(&x->nic, &y->nic, sizeof(x->nic)) &&
	       !memcmp(&x->gpu, &y->gpu, sizeof(x->gpu));
}

Test(vpci_state, every_rule_refuses_and_changes_nothing)
{
	static struct bus src, dst, before;
	uint8_t base[VPCI_STATE_MAX_SIZE], blob[VPCI_STATE_MAX_SIZE];
	char err[200];

	fresh(&src, false);
	size_t n = vpci_save(&src.pci, base, sizeof(base));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(&dst, false);
		busy(&dst.pci);
		memcpy(&before, &dst, sizeof(dst));
		memcpy(blob, base, n);
		st_apply_case(blob, &cases[i]);
		err[0] = 0;
		st_assert_error(vpci_load(&dst.pci, blob, n, err, sizeof(err)), err, cases[i].want);
		cr_assert(same_bus(&dst, &before), "case %u changed the bus", i);
	}
	/* Another set of functions on the destination. */
	vpci_init(&dst.pci);
	add_nic(&dst);
	st_assert_error(vpci_load(&dst.pci, base, n, err, sizeof(err)), err,
			"vpci: 3 functions, 2 registered here");
}

/* A write-1-to-clear bit the destination's model has set may arrive
 * cleared (the guest cleared it on the source); one it has clear may not
 * arrive set. */
Test(vpci_state, write_1_to_clear_bits)
{
	static struct bus src, dst;
	uint8_t blob[VPCI_STATE_MAX_SIZE];
	char err[200];

	fresh(&src, false);
	size_t n = vpci_save(&src.pci, blob, sizeof(blob));
	fresh(&dst, false);
	dst.nic.bytes[PCI_STATUS + 1] = 0x82; /* detected parity error, DEVSEL medium */
	st_assert_error(vpci_load(&dst.pci, blob, n, err, sizeof(err)), err,
			"function 00:03.0 config[0x07] 0x00: read-only bits 0x02 differ from 0x82");
	dst.nic.bytes[PCI_STATUS + 1] = 0x81; /* parity errors: both write-1-to-clear */
	cr_assert_eq(vpci_load(&dst.pci, blob, n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dst.nic.bytes[PCI_STATUS + 1], 0);
}

Test(vpci_state, random_activity_stays_loadable)
{
	static struct bus a, b;
	static const unsigned devfns[] = { 0x00, 0x18, 0x20, 0x28 };
	uint8_t blob[VPCI_STATE_MAX_SIZE], again[VPCI_STATE_MAX_SIZE];
	char err[200];
	uint64_t seed = 0xcf8;

	fresh(&a, false);
	for (unsigned step = 0; step < 5000; step++) {
		uint64_t r = st_rand(&seed);
		uint32_t v = (uint32_t)(r >> 32);
		unsigned width = 1u << ((r >> 8) % 3), reg = (unsigned)(r >> 12) & 0xff;
		unsigned devfn = devfns[(r >> 20) % 4];
		switch (r % 4) {
		case 0: vpci_io_write(&a.pci, 0, 4, v); break;
		case 1: vpci_io_write(&a.pci, 4 + (reg & 3), width, v); break;
		default:
			vpci_ecam_write(&a.pci, devfn << 12 | (reg & ~(width - 1)), width, v);
			break;
		}
		size_t n = vpci_save(&a.pci, blob, sizeof(blob));
		fresh(&b, (r >> 30) & 1);
		cr_assert_eq(vpci_load(&b.pci, blob, n, err, sizeof(err)), 0, "step %u: %s", step,
			     err);
		fresh(&b, false);
		cr_assert_eq(vpci_load(&b.pci, blob, n, err, sizeof(err)), 0);
		vpci_save(&b.pci, again, sizeof(again));
		cr_assert_arr_eq(blob, again, n);
	}
}
