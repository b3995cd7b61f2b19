#include <criterion/criterion.h>

#include "hv/vdev/vpci.h"

static struct vpci pci;

/* The guest's port instructions: 0xcf8 + offset. */
static void outl_addr(uint32_t v)
{
	cr_assert(vpci_io_write(&pci, 0, 4, v));
}

static uint32_t in(unsigned port, unsigned width)
{
	uint32_t v = 0xdeadbeef;

	cr_assert(vpci_io_read(&pci, port - 0xcf8, width, &v), "port %#x width %u declined", port,
		  width);
	return v;
}

static void out(unsigned port, unsigned width, uint32_t v)
{
	cr_assert(vpci_io_write(&pci, port - 0xcf8, width, v));
}

static uint32_t cfg_read(unsigned dev, unsigned fn, unsigned reg, unsigned width)
{
	outl_addr(0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
	return in(0xcfc + (reg & 3), width);
}

static void cfg_write(unsigned dev, unsigned fn, unsigned reg, unsigned width, uint32_t v)
{
	outl_addr(0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
	out(0xcfc + (reg & 3), width, v);
}

Test(vpci, host_bridge_at_every_width)
{
	vpci_init(&pci);
	cr_assert_eq(cfg_read(0, 0, 0x00, 4), 0x12378086);
	cr_assert_eq(cfg_read(0, 0, 0x00, 2), 0x8086);
	cr_assert_eq(cfg_read(0, 0, 0x02, 2), 0x1237);
	cr_assert_eq(cfg_read(0, 0, 0x01, 2), 0x3780, "a word across the IDs");
	static const uint8_t id[4] = { 0x86, 0x80, 0x37, 0x12 };
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(cfg_read(0, 0, i, 1), id[i]);
	cr_assert_eq(cfg_read(0, 0, 0x04, 4), 0x02800006, "status 0280, command 0006");
	cr_assert_eq(cfg_read(0, 0, 0x08, 4), 0x06000002, "class 060000, revision 02");
	cr_assert_eq(cfg_read(0, 0, 0x0e, 1), 0x00, "header type 0, single function");
	for (unsigned bar = 0x10; bar < 0x28; bar += 4) {
		cfg_write(0, 0, bar, 4, 0xffffffff);
		cr_assert_eq(cfg_read(0, 0, bar, 4), 0, "no BARs");
	}
	cr_assert_eq(cfg_read(0, 0, 0x3c, 4), 0);
	cr_assert_eq(cfg_read(0, 0, 0xfc, 4), 0);
	cfg_write(0, 0, 0x04, 2, 0xffff);
	cr_assert_eq(cfg_read(0, 0, 0x04, 2), 0x0146, "memory and master fixed, PERR/SERR enables");
	cr_assert_eq(pci.bad_accesses, 0);
}

Test(vpci, config_address_register)
{
	uint32_t v;

	vpci_init(&pci);
	outl_addr(0x80001234);
	cr_assert_eq(in(0xcf8, 4), 0x80001234);
	outl_addr(0xffffffff);
	cr_assert_eq(in(0xcf8, 4), 0x80fffffc, "bits 30:24 and 1:0 read 0");
	/* Only dwords at 0xcf8 reach it: byte and word accesses to 0xcf8-0xcfb
	 * are ordinary I/O (0xcf9 is the reset register). */
	cr_assert_not(vpci_io_write(&pci, 1, 1, 0x06));
	cr_assert_not(vpci_io_write(&pci, 3, 1, 0x01));
	cr_assert_not(vpci_io_write(&pci, 0, 2, 0));
	cr_assert_not(vpci_io_read(&pci, 0, 1, &v));
	cr_assert_not(vpci_io_read(&pci, 2, 2, &v));
	cr_assert_not(vpci_io_write(&pci, 1, 4, 0));
	cr_assert_eq(in(0xcf8, 4), 0x80fffffc, "unchanged");
	cr_assert_eq(pci.bad_accesses, 0);
	cr_assert_not(vpci_io_read(&pci, 8, 1, &v));
	cr_assert_not(vpci_io_read(&pci, 4, 3, &v));
	cr_assert_eq(pci.bad_accesses, 2);
}

Test(vpci, absent_functions_and_enable_bit)
{
	vpci_init(&pci);
	cr_assert_eq(cfg_read(1, 0, 0, 4), 0xffffffff);
	cr_assert_eq(cfg_read(1, 0, 0, 2), 0xffff);
	cr_assert_eq(cfg_read(1, 0, 3, 1), 0xff);
	cr_assert_eq(cfg_read(0, 1, 0, 4), 0xffffffff, "host bridge function 1");
	cr_assert_eq(cfg_read(31, 7, 0xfc, 4), 0xffffffff);
	cfg_write(1, 0, 0x04, 2, 0x0007); /* dropped */
	outl_addr(0x80010000); /* bus 1, device 0 */
	cr_assert_eq(in(0xcfc, 4), 0xffffffff);
	out(0xcfc, 4, 0);
	outl_addr(0x00000000); /* enable clear: even 00:00.0 is not addressed */
	cr_assert_eq(in(0xcfc, 4), 0xffffffff);
	cr_assert_eq(in(0xcfe, 2), 0xffff);
	out(0xcfc, 4, 0);
	cr_assert_eq(cfg_read(0, 0, 0, 4), 0x12378086, "untouched");
	/* CONFIG_DATA accesses running past 0xcff. */
	outl_addr(0x80000000);
	cr_assert_eq(in(0xcff, 2), 0xffff);
	cr_assert_eq(in(0xcfd, 4), 0xffffffff);
	out(0xcfe, 4, 0);
	cr_assert_eq(pci.bad_accesses, 3);
	cr_assert_eq(in(0xcfd, 2), 0x3780, "inside the dword");
}

static struct vpci_config dev;

static void test_device(void)
{
	vpci_init(&pci);
	vpci_config_init(&dev, 0x1af4, 0x1001, 0x010000, 0x01, 0);
	vpci_config_set_interrupt_pin(&dev, 1);
	cr_assert(vpci_config_set_bar(&dev, 0, VPCI_BAR_MEM32, 4096, false));
	cr_assert(vpci_config_set_bar(&dev, 1, VPCI_BAR_IO, 32, false));
	cr_assert(vpci_config_set_bar(&dev, 2, VPCI_BAR_MEM64, 1 << 20, true));
	cr_assert(vpci_register(&pci, 3, 0, &dev, NULL, NULL));
}

Test(vpci, bar_sizing)
{
	uint64_t addr;
	bool on;

	test_device();
	cr_assert_eq(cfg_read(3, 0, 0x10, 4), 0x00000000, "32-bit, non-prefetchable");
	cr_assert_eq(cfg_read(3, 0, 0x14, 4), 0x00000001, "I/O");
	cr_assert_eq(cfg_read(3, 0, 0x18, 4), 0x0000000c, "64-bit, prefetchable");
	for (unsigned bar = 0x10; bar <= 0x24; bar += 4)
		cfg_write(3, 0, bar, 4, 0xffffffff);
	cr_assert_eq(cfg_read(3, 0, 0x10, 4), 0xfffff000, "4 KiB");
	cr_assert_eq(cfg_read(3, 0, 0x14, 4), 0xffffffe1, "32 ports");
	cr_assert_eq(cfg_read(3, 0, 0x18, 4), 0xfff0000c, "1 MiB");
	cr_assert_eq(cfg_read(3, 0, 0x1c, 4), 0xffffffff, "upper half");
	cr_assert_eq(cfg_read(3, 0, 0x20, 4), 0, "no BAR 4");
	cr_assert_eq(cfg_read(3, 0, 0x24, 4), 0, "no BAR 5");
	cfg_write(3, 0, 0x30, 4, 0xffffffff);
	cr_assert_eq(cfg_read(3, 0, 0x30, 4), 0, "no expansion ROM");
	/* The OS places them. */
	cfg_write(3, 0, 0x10, 4, 0xfebf1234);
	cfg_write(3, 0, 0x14, 4, 0x0000c040);
	cfg_write(3, 0, 0x18, 4, 0x00100000);
	cfg_write(3, 0, 0x1c, 4, 0x00000008);
	cr_assert_eq(cfg_read(3, 0, 0x10, 4), 0xfebf1000);
	cr_assert(vpci_config_bar(&dev, 0, &addr, &on) && addr == 0xfebf1000 && !on);
	cr_assert(vpci_config_bar(&dev, 1, &addr, &on) && addr == 0xc040 && !on);
	cr_assert(vpci_config_bar(&dev, 2, &addr, &on) && addr == 0x800100000ull);
	cr_assert_not(vpci_config_bar(&dev, 3, &addr, &on), "the upper half is not a BAR");
	cr_assert_not(vpci_config_bar(&dev, 4, &addr, &on));
	cfg_write(3, 0, 0x04, 2, 0xffff);
	cr_assert_eq(cfg_read(3, 0, 0x04, 2), 0x0547, "I/O, memory, master, PERR, SERR, INTx");
	cr_assert(vpci_config_bar(&dev, 0, &addr, &on) && on);
	cr_assert(vpci_config_bar(&dev, 1, &addr, &on) && on);
	/* Bad declarations. */
	cr_assert_not(vpci_config_set_bar(&dev, 0, VPCI_BAR_MEM32, 4096, false), "taken");
	cr_assert_not(vpci_config_set_bar(&dev, 3, VPCI_BAR_IO, 16, false), "upper half");
	cr_assert_not(vpci_config_set_bar(&dev, 4, VPCI_BAR_IO, 512, false), "I/O over 256");
	cr_assert_not(vpci_config_set_bar(&dev, 4, VPCI_BAR_MEM32, 3000, false), "not 2^n");
	cr_assert_not(vpci_config_set_bar(&dev, 5, VPCI_BAR_MEM64, 4096, false), "no BAR 6");
	cr_assert_not(vpci_config_set_bar(&dev, 6, VPCI_BAR_IO, 16, false));
	cr_assert(vpci_config_set_bar(&dev, 5, VPCI_BAR_IO, 4, false));
}

Test(vpci, read_only_fields_and_w1c_status)
{
	test_device();
	cfg_write(3, 0, 0x00, 4, 0);
	cfg_write(3, 0, 0x08, 4, 0xffffffff);
	cfg_write(3, 0, 0x0e, 1, 0x80);
	cfg_write(3, 0, 0x3c, 4, 0xffffffff);
	cr_assert_eq(cfg_read(3, 0, 0x00, 4), 0x10011af4);
	cr_assert_eq(cfg_read(3, 0, 0x08, 4), 0x01000001);
	cr_assert_eq(cfg_read(3, 0, 0x0e, 1), 0);
	cr_assert_eq(cfg_read(3, 0, 0x3c, 4), 0x000001ff, "line writable, pin and the rest not");
	/* The device reports errors; the guest clears them by writing ones. */
	vpci_config_set16(&dev, PCI_STATUS, PCI_STATUS_ERRORS | PCI_STATUS_DEVSEL_MEDIUM |
						    PCI_STATUS_CAP_LIST);
	cfg_write(3, 0, 0x06, 2, 0);
	cr_assert_eq(cfg_read(3, 0, 0x06, 2), 0xfb10, "writing 0 clears nothing");
	cfg_write(3, 0, 0x06, 2, 0x2000 | PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_CAP_LIST);
	cr_assert_eq(cfg_read(3, 0, 0x06, 2), 0xdb10, "master abort cleared, RO bits kept");
	cfg_write(3, 0, 0x07, 1, 0x01);
	cr_assert_eq(cfg_read(3, 0, 0x06, 2), 0xda10, "a byte write to the high half");
	cfg_write(3, 0, 0x04, 4, 0x00000006); /* command, with status 0: nothing cleared */
	cr_assert_eq(cfg_read(3, 0, 0x04, 4), 0xda100006);
	cfg_write(3, 0, 0x04, 4, 0xffff0000);
	cr_assert_eq(cfg_read(3, 0, 0x04, 4), 0x02100000);
}

struct hook_log {
	unsigned writes, last_offset, last_width;
	uint32_t last_old, seen;
};

static bool hook_read(void *ctx, const struct vpci_config *cfg, unsigned offset, unsigned width,
		      uint32_t *value)
{
	(void)ctx;
	(void)cfg;
	if (offset != 0x40 || width != 4)
		return false;
	*value = 0xc0ffee00;
	return true;
}

static void hook_written(void *ctx, struct vpci_config *cfg, unsigned offset, unsigned width,
			 uint32_t old)
{
	struct hook_log *log = ctx;

	log->writes++;
	log->last_offset = offset;
	log->last_width = width;
	log->last_old = old;
	log->seen = vpci_config_read(cfg, offset, width);
}

Test(vpci, hooks_and_registration)
{
	static const struct vpci_function_ops ops = { hook_read, hook_written };
	struct hook_log log = { 0 };
	struct vpci_config other, many[VPCI_MAX_FUNCTIONS];

	vpci_init(&pci);
	vpci_config_init(&dev, 0x1af4, 0x1001, 0x010000, 0, PCI_HEADER_MULTI_FUNCTION);
	cr_assert(vpci_config_set_bar(&dev, 0, VPCI_BAR_MEM32, 4096, false));
	cr_assert(vpci_register(&pci, 2, 0, &dev, &ops, &log));
	cr_assert_eq(cfg_read(2, 0, 0x40, 4), 0xc0ffee00);
	cr_assert_eq(cfg_read(2, 0, 0x40, 2), 0, "the hook declines: stored bytes");
	cfg_write(2, 0, 0x10, 4, 0xfebf0fff);
	cr_assert_eq(log.writes, 1);
	cr_assert(log.last_offset == 0x10 && log.last_width == 4 && log.last_old == 0);
	cr_assert_eq(log.seen, 0xfebf0000, "the hook sees the write with masks applied");
	cfg_write(5, 0, 0x10, 4, 0); /* absent: no hook */
	cr_assert_eq(log.writes, 1);

	vpci_config_init(&other, 0x1af4, 0x1002, 0, 0, 0);
	cr_assert_not(vpci_register(&pci, 0, 0, &other, NULL, NULL), "the host bridge's slot");
	cr_assert_not(vpci_register(&pci, 2, 0, &other, NULL, NULL), "taken");
	cr_assert_not(vpci_register(&pci, 32, 0, &other, NULL, NULL));
	cr_assert_not(vpci_register(&pci, 1, 8, &other, NULL, NULL));
	cr_assert(vpci_register(&pci, 2, 1, &other, NULL, NULL));
	cr_assert_eq(cfg_read(2, 1, 0x00, 4), 0x10021af4);
	cr_assert_eq(vpci_function_config(&pci, 2, 1), &other);
	cr_assert_null(vpci_function_config(&pci, 9, 0));
	for (unsigned i = 0; pci.function_count < VPCI_MAX_FUNCTIONS; i++) {
		vpci_config_init(&many[i], 0x1af4, 0x1000, 0, 0, 0);
		cr_assert(vpci_register(&pci, 10 + i, 0, &many[i], NULL, NULL));
	}
	cr_assert_not(vpci_register(&pci, 30, 0, &other, NULL, NULL), "table full");
}
