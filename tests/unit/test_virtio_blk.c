/* The virtio-blk model's PCI function and transport: identity,
 * capabilities and BAR, feature negotiation, common configuration
 * registers, device configuration, ISR and the INTx line, reset. The
 * capability helper in vpci_config.c is tested here too. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vdev/virtio_blk.h"
#include "test_virtio_blk_harness.h"

static void plain(void)
{
	vbt_setup(false, false);
}

static void read_only(void)
{
	vbt_setup(true, false);
}

TestSuite(vblk_pci, .init = plain, .fini = vbt_teardown);
TestSuite(vblk_pci_ro, .init = read_only, .fini = vbt_teardown);

Test(vblk_pci, identity)
{
	cr_assert_eq(vbt_cfg_read(0x00, 4), 0x10421af4);
	cr_assert_eq(vbt_cfg_read(0x08, 4), 0x01800001, "class 018000, revision 1");
	cr_assert_eq(vbt_cfg_read(0x2c, 4), 0x11001af4, "subsystem 1af4:1100");
	cr_assert_eq(vbt_cfg_read(PCI_INTERRUPT_PIN, 1), 1, "INTA#");
	cr_assert_eq(vbt_cfg_read(PCI_HEADER_TYPE, 1), 0);
	cr_assert_eq(vbt_cfg_read(PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	cr_assert_eq(vbt_cfg_read(PCI_CAPABILITY_LIST, 1), 0x40);
	for (unsigned bar = 0; bar < 6; bar++) {
		if (bar == VBLK_BAR || bar == VBLK_BAR + 1 || bar == VBLK_NOTIFY_BAR)
			continue;
		vbt_cfg_write(PCI_BAR0 + 4 * bar, 4, 0xffffffff);
		cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * bar, 4), 0, "BAR %u absent", bar);
	}
	cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * VBLK_BAR, 4), 0x4, "64-bit, not prefetchable");
	cr_assert_eq(vbt_cfg_read(PCI_BAR0 + 4 * VBLK_NOTIFY_BAR, 4), 0x1, "I/O space");
	vbt_cfg_write(PCI_COMMAND, 2, 0xffff);
	cr_assert_eq(vbt_cfg_read(PCI_COMMAND, 2), 0x0547,
		     "I/O, memory, master, parity, SERR, interrupt disable");
}

/* The capabilities exactly: 4.1.4's struct virtio_pci_cap, in a chain. */
Test(vblk_pci, capabilities)
{
	static const struct {
		unsigned at, next, len, type, bar, offset, length;
	} want[] = {
		{ 0x40, 0x50, 16, 1, VBLK_BAR, 0x0000, 0x38 },
		{ 0x50, 0x60, 16, 3, VBLK_BAR, 0x1000, 1 },
		{ 0x60, 0x70, 16, 4, VBLK_BAR, 0x2000, 0x40 },
		{ 0x70, 0x84, 20, 2, VBLK_NOTIFY_BAR, 0, VBLK_NOTIFY_PORTS }, /* I/O space */
		{ 0x84, 0x00, 20, 5, 0, 0, 0 }, /* PCI configuration access */
	};
	for (unsigned i = 0; i < 5; i++) {
		unsigned at = want[i].at;
		cr_assert_eq(vbt_cfg_read(at, 1), PCI_CAP_ID_VENDOR, "cap %u", i);
		cr_assert_eq(vbt_cfg_read(at + 1, 1), want[i].next);
		cr_assert_eq(vbt_cfg_read(at + 2, 1), want[i].len);
		cr_assert_eq(vbt_cfg_read(at + 3, 1), want[i].type);
		cr_assert_eq(vbt_cfg_read(at + 4, 1), want[i].bar);
		cr_assert_eq(vbt_cfg_read(at + 5, 1), 0, "id");
		cr_assert_eq(vbt_cfg_read(at + 6, 2), 0, "padding");
		cr_assert_eq(vbt_cfg_read(at + 8, 4), want[i].offset);
		cr_assert_eq(vbt_cfg_read(at + 12, 4), want[i].length);
		vbt_cfg_write(at, 4, 0);
		if (want[i].type == 5)
			continue; /* its bar, offset and length are the driver's to set */
		vbt_cfg_write(at + 8, 4, 0x12345678);
		cr_assert_eq(vbt_cfg_read(at + 8, 4), want[i].offset, "read-only");
	}
	cr_assert_eq(vbt_cfg_read(0x70 + 16, 4), 0, "every queue at the same port");
	cr_assert_eq(vbt_cfg_read(0x98, 4), 0, "nothing after the list");
	vbt_probe();
	cr_assert_eq(vbt->common, 0);
	cr_assert_eq(vbt->isr, 0x1000);
	cr_assert_eq(vbt->device, 0x2000);
	cr_assert_eq(vbt->notify, 0);
}

/* The helper keeps the list ordered, dword-aligned and inside 256 bytes. */
Test(vblk_pci, capability_helper)
{
	struct vpci_config cfg;
	uint8_t body[40];

	memset(body, 0xab, sizeof(body));
	vpci_config_init(&cfg, 0x8086, 0x1234, 0x020000, 0, 0);
	cr_assert_eq(vpci_config_read(&cfg, PCI_STATUS, 2), 0, "no list before");
	cr_assert_eq(vpci_config_add_capability(&cfg, 0, body, 2), 0u, "id 0 is refused");
	cr_assert_eq(vpci_config_add_capability(&cfg, 0x05, body, 5), 0x40u);
	cr_assert_eq(vpci_config_add_capability(&cfg, 0x11, body, 10), 0x48u, "7 bytes round to 8");
	cr_assert_eq(vpci_config_read(&cfg, PCI_CAPABILITY_LIST, 1), 0x40);
	cr_assert_eq(vpci_config_read(&cfg, 0x40, 2), 0x4805, "id, next");
	cr_assert_eq(vpci_config_read(&cfg, 0x48, 2), 0x0011, "the last ends the list");
	cr_assert_eq(vpci_config_read(&cfg, 0x42, 1), 0xab);
	cr_assert_eq(vpci_config_read(&cfg, 0x47, 1), 0, "past the body");
	cr_assert_eq(vpci_config_read(&cfg, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	unsigned at = 0x54, placed = 0;
	while (vpci_config_add_capability(&cfg, 0x09, body, 38) == at) {
		placed++;
		at += 40;
	}
	cr_assert_eq(placed, 4u, "0x54, 0x7c, 0xa4, 0xcc; 0xf4 + 40 does not fit");
	struct vpci_config before = cfg;
	cr_assert_eq(vpci_config_add_capability(&cfg, 0x09, body, 38), 0u);
	cr_assert_eq(memcmp(&before, &cfg, sizeof(cfg)), 0, "nothing changed");
	cr_assert_eq(vpci_config_add_capability(&cfg, 0x09, body, 10), 0xf4u, "12 bytes still fit");
	cr_assert_eq(vpci_config_add_capability(&cfg, 0x09, body, 0), 0u, "full");
	cr_assert_eq(vpci_config_read(&cfg, 0xcc + 1, 1), 0xf4);
	vpci_config_write(&cfg, 0xf4, 4, 0);
	cr_assert_eq(vpci_config_read(&cfg, 0xf4, 2), 0x0009, "read-only to the guest");
}

Test(vblk_pci, features)
{
	vbt_probe();
	vbt_common_write(0x00, 4, 0);
	cr_assert_eq(vbt_common_read(0x04, 4), 0x246, "SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH");
	vbt_common_write(0x00, 4, 1);
	cr_assert_eq(vbt_common_read(0x04, 4), 1, "VERSION_1");
	vbt_common_write(0x00, 4, 2);
	cr_assert_eq(vbt_common_read(0x04, 4), 0);
	cr_assert_eq(vbt_common_read(0x00, 4), 2);
	/* 3.1.1: a legacy driver (no VERSION_1) does not get FEATURES_OK. */
	cr_assert_eq(vbt_negotiate(VBLK_F_FLUSH), VBLK_S_ACKNOWLEDGE | VBLK_S_DRIVER);
	cr_assert_eq(vbt_negotiate(VBLK_F_VERSION_1 | VBLK_F_RO), 0x03, "RO was not offered");
	cr_assert_eq(vbt_negotiate(VBLK_F_VERSION_1 | (1ull << 28)), 0x03, "nor indirect");
	cr_assert_eq(vbt_negotiate(VBLK_F_VERSION_1 | VBLK_F_FLUSH | VBLK_F_SEG_MAX), 0x0b);
	vbt_common_write(0x08, 4, 0);
	cr_assert_eq(vbt_common_read(0x0c, 4), 0x204);
	uint64_t bad = vbt->dev.stats.bad_accesses;
	vbt_common_write(0x0c, 4, 0);
	cr_assert_eq(vbt_common_read(0x0c, 4), 0x204, "fixed after FEATURES_OK");
	cr_assert_eq(vbt->dev.stats.bad_accesses, bad + 1);
	vbt_common_write(0x08, 4, 1);
	cr_assert_eq(vbt_common_read(0x0c, 4), 1);
}

Test(vblk_pci_ro, features)
{
	vbt_probe();
	cr_assert_eq(vbt_common_read(0x04, 4), 0x266, "RO too");
	cr_assert_eq(vbt_negotiate(VBLK_F_VERSION_1 | VBLK_F_RO), 0x0b);
}

Test(vblk_pci, device_config)
{
	vbt_probe();
	uint64_t cfg = vbt->device;
	cr_assert_eq(vbt_read(cfg + 0, 8), VBT_DISK_SECTORS);
	cr_assert_eq(vbt_read(cfg + 0, 4), VBT_DISK_SECTORS);
	cr_assert_eq(vbt_read(cfg + 4, 4), 0);
	cr_assert_eq(vbt_read(cfg + 1, 1), VBT_DISK_SECTORS >> 8);
	cr_assert_eq(vbt_read(cfg + 8, 4), VBLK_SIZE_MAX, "size_max");
	cr_assert_eq(vbt_read(cfg + 12, 4), VBLK_SEG_MAX);
	cr_assert_eq(vbt_read(cfg + 16, 4), 0, "geometry: not offered");
	cr_assert_eq(vbt_read(cfg + 20, 4), 512, "blk_size");
	cr_assert_eq(vbt_read(cfg + 20, 2), 512);
	cr_assert_eq(vbt_read(cfg + 32, 1), 0, "writeback");
	cr_assert_eq(vbt_read(cfg + 0x3c, 4), 0, "last dword");
	cr_assert_eq(vbt->dev.stats.bad_accesses, 0);
	cr_assert_eq(vbt_read(cfg + 0x3e, 4), 0, "past the end");
	cr_assert_eq(vbt_read(cfg + 0x40, 1), 0);
	cr_assert_eq(vbt->dev.stats.bad_accesses, 2);
	vbt_write(cfg + 0, 8, 5);
	vbt_write(cfg + 32, 1, 1);
	cr_assert_eq(vbt_read(cfg + 0, 8), VBT_DISK_SECTORS, "writes ignored");
	cr_assert_eq(vbt_read(cfg + 32, 1), 0);
	cr_assert_eq(vbt->dev.stats.bad_accesses, 4);
}

Test(vblk_pci, common_registers)
{
	vbt_probe();
	cr_assert_eq(vbt_common_read(0x12, 2), 1, "num_queues");
	cr_assert_eq(vbt_common_read(0x10, 2), 0xffff, "msix_config: NO_VECTOR");
	vbt_common_write(0x10, 2, 3);
	cr_assert_eq(vbt_common_read(0x10, 2), 0xffff, "no MSI-X");
	cr_assert_eq(vbt_common_read(0x15, 1), 0, "config_generation");
	cr_assert_eq(vbt_common_read(0x1a, 2), 0xffff);
	cr_assert_eq(vbt_common_read(0x1e, 2), 0, "queue_notify_off");
	cr_assert_eq(vbt->dev.stats.bad_accesses, 0);
	/* Wrong widths are not decoded. */
	cr_assert_eq(vbt_common_read(0x14, 2), 0);
	cr_assert_eq(vbt_common_read(0x04, 2), 0);
	cr_assert_eq(vbt_common_read(0x12, 4), 0);
	cr_assert_eq(vbt_common_read(0x22, 4), 0);
	vbt_common_write(0x14, 4, 0x0f);
	cr_assert_eq(vbt_common_read(0x14, 1), 0);
	cr_assert_eq(vbt->dev.stats.bad_accesses, 5);
	cr_assert_eq(vbt_read(0x38, 2), 0, "past the common structure");
	cr_assert_eq(vbt_read(0x3000, 2), 0, "notify is write-only");
	cr_assert_eq(vbt_read(0x1001, 1), 0, "ISR is one byte");
	vbt_write(0x1000, 1, 0xff);
	cr_assert_eq(vbt->dev.stats.bad_accesses, 9);
	/* Other queues are absent. */
	vbt_common_write(0x16, 2, 1);
	cr_assert_eq(vbt_common_read(0x16, 2), 1);
	cr_assert_eq(vbt_common_read(0x18, 2), 0, "queue 1 unavailable");
	cr_assert_eq(vbt_common_read(0x1a, 2), 0xffff);
	vbt_common_write(0x18, 2, 16);
	vbt_common_write(0x16, 2, 0);
	cr_assert_eq(vbt_common_read(0x18, 2), VBLK_QUEUE_MAX, "queue 0 untouched");
}

Test(vblk_pci, queue_setup)
{
	vbt_probe();
	vbt_negotiate(VBLK_F_VERSION_1);
	uint64_t bad = vbt->dev.stats.bad_accesses;
	vbt_common_write(0x18, 2, 100);
	vbt_common_write(0x18, 2, 512);
	vbt_common_write(0x18, 2, 0);
	cr_assert_eq(vbt_common_read(0x18, 2), VBLK_QUEUE_MAX, "powers of two up to the max");
	vbt_common_write(0x18, 2, 1);
	cr_assert_eq(vbt_common_read(0x18, 2), 1);
	vbt_common_write(0x18, 2, 64);
	cr_assert_eq(vbt->dev.stats.bad_accesses, bad + 3);
	/* 64-bit addresses: halves and whole. */
	vbt_common_write(0x20, 4, 0x12345000);
	vbt_common_write(0x24, 4, 0x9);
	cr_assert_eq(vbt_common_read(0x20, 8), 0x912345000ull);
	cr_assert_eq(vbt_common_read(0x24, 4), 0x9);
	vbt_common_write(0x28, 8, 0xabcdef0123456002ull);
	cr_assert_eq(vbt_common_read(0x28, 4), 0x23456002);
	cr_assert_eq(vbt_common_read(0x2c, 4), 0xabcdef01);
	/* Misaligned areas (2.7): the queue is not enabled. */
	vbt_common_write(0x20, 8, 0x1008);
	vbt_common_write(0x28, 8, 0x2000);
	vbt_common_write(0x30, 8, 0x3000);
	vbt_common_write(0x1c, 2, 1);
	cr_assert_eq(vbt_common_read(0x1c, 2), 0, "descriptor table not 16-aligned");
	vbt_common_write(0x20, 8, 0x1000);
	vbt_common_write(0x30, 8, 0x3002);
	vbt_common_write(0x1c, 2, 1);
	cr_assert_eq(vbt_common_read(0x1c, 2), 0, "used ring not 4-aligned");
	vbt_common_write(0x28, 8, 0x2001);
	vbt_common_write(0x30, 8, 0x3004);
	vbt_common_write(0x1c, 2, 1);
	cr_assert_eq(vbt_common_read(0x1c, 2), 0, "available ring not 2-aligned");
	vbt_common_write(0x28, 8, 0x2002);
	vbt_common_write(0x1c, 2, 1);
	cr_assert_eq(vbt_common_read(0x1c, 2), 1);
	/* An enabled queue keeps its setup. */
	bad = vbt->dev.stats.bad_accesses;
	vbt_common_write(0x18, 2, 16);
	vbt_common_write(0x20, 8, 0x5000);
	vbt_common_write(0x1c, 2, 0);
	cr_assert_eq(vbt_common_read(0x18, 2), 64);
	cr_assert_eq(vbt_common_read(0x20, 8), 0x1000);
	cr_assert_eq(vbt_common_read(0x1c, 2), 1);
	cr_assert_eq(vbt->dev.stats.bad_accesses, bad + 3);
}

static void raise_queue_interrupt(void)
{
	uint32_t len;

	vbt_start(16);
	cr_assert_eq(vbt_request(4, 0, 0, &len), 0, "flush");
	cr_assert(vbt->line);
}

Test(vblk_pci, isr_read_clears)
{
	vbt_probe();
	raise_queue_interrupt();
	cr_assert_eq(vbt_cfg_read(PCI_STATUS, 2), PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	cr_assert_eq(vbt_cfg_read(PCI_STATUS, 1), PCI_STATUS_INTERRUPT | PCI_STATUS_CAP_LIST);
	cr_assert_eq(vbt_cfg_read(PCI_COMMAND, 4) >> 16,
		     PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	cr_assert_eq(vbt_read(vbt->isr, 1), VBLK_ISR_QUEUE);
	cr_assert_not(vbt->line);
	cr_assert_eq(vbt_read(vbt->isr, 1), 0, "cleared by the read");
	cr_assert_eq(vbt_cfg_read(PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	cr_assert_eq(vbt->line_changes, 2u);
	cr_assert_eq(vbt->line_calls, 2u, "driven on changes only");
	cr_assert_eq(vbt->dev.stats.interrupts, 1);
}

/* PCI 3.0, 6.2.2: Interrupt Disable keeps INTx deasserted; the status bit
 * still shows the interrupt. */
Test(vblk_pci, intx_disable)
{
	vbt_probe();
	raise_queue_interrupt();
	vbt_cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE);
	cr_assert_not(vbt->line);
	cr_assert(vbt_cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	vbt_cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cr_assert(vbt->line, "pending again once enabled");
	cr_assert_eq(vbt_read(vbt->isr, 4), VBLK_ISR_QUEUE, "any width");
	cr_assert_not(vbt->line);
}

/* 2.4 and 4.1.4.3: writing 0 to device status resets the transport. */
Test(vblk_pci, reset)
{
	vbt_probe();
	raise_queue_interrupt();
	vbt_common_write(0x00, 4, 1);
	vbt_common_write(0x16, 2, 5);
	vbt_common_write(0x14, 1, 0);
	cr_assert_not(vbt->line, "the line goes low");
	const struct vblk *d = &vbt->dev;
	cr_assert_eq(d->status, 0);
	cr_assert_eq(d->isr, 0);
	cr_assert_eq(d->driver_features, 0);
	cr_assert_eq(d->device_feature_select, 0);
	cr_assert_eq(d->queue_select, 0);
	cr_assert_eq(d->queue_size, VBLK_QUEUE_MAX);
	cr_assert_not(d->queue_enable);
	cr_assert_eq(d->queue_desc | d->queue_driver | d->queue_device, 0);
	cr_assert_eq(d->last_avail, 0);
	cr_assert_eq(d->used_idx, 0);
	cr_assert_eq(vbt_read(vbt->isr, 1), 0);
	/* And it works again from scratch. */
	memset(vbt_gpa(VBT_USED), 0, 8);
	uint32_t len;
	vbt_start(8);
	cr_assert_eq(vbt_request(4, 0, 0, &len), 0);
	cr_assert_eq(vbt_used_idx(), 1);
}

Test(vblk_pci, status_bits)
{
	vbt_probe();
	vbt_common_write(0x14, 1, 0xff);
	cr_assert_eq(vbt_common_read(0x14, 1), 0x87, "FEATURES_OK refused, NEEDS_RESET and "
						     "undefined bits not taken");
	vbt_common_write(0x14, 1, VBLK_S_ACKNOWLEDGE);
	cr_assert_eq(vbt_common_read(0x14, 1), VBLK_S_ACKNOWLEDGE);
}

/* 16-bit accesses reach the 16-bit fields only: the halves of a feature
 * register are not a queue address. */
Test(vblk_pci, halves_of_32_bit_registers_decode_nothing)
{
	vbt_probe();
	uint64_t bad = vbt->dev.stats.bad_accesses;
	for (unsigned off = 0x02; off < 0x10; off += 4)
		vbt_common_write(off, 2, 0x1234);
	cr_assert_eq(vbt->dev.queue_desc, 0);
	cr_assert_eq(vbt->dev.stats.bad_accesses, bad + 4);
	vbt_common_write(0x16, 2, 0);
	cr_assert_eq(vbt_common_read(0x18, 2), VBLK_QUEUE_MAX, "queue_size still decodes");
}

/* 4.1.4.9: the configuration-space window reaches the BARs: device
 * configuration reads, common configuration writes, the notify port. */
Test(vblk_pci, pci_cfg_window)
{
	vbt_probe();
	unsigned cap = VBLK_PCI_CFG_CAP;
	vbt_cfg_write(cap + 4, 1, VBLK_BAR);
	vbt_cfg_write(cap + 8, 4, (uint32_t)vbt->device + 20); /* blk_size */
	vbt_cfg_write(cap + 12, 4, 4);
	cr_assert_eq(vbt_cfg_read(cap + 16, 4), 512);
	vbt_cfg_write(cap + 8, 4, (uint32_t)vbt->common + 0x16); /* queue_select */
	vbt_cfg_write(cap + 12, 4, 2);
	vbt_cfg_write(cap + 16, 2, 0);
	vbt_cfg_write(cap + 8, 4, (uint32_t)vbt->common + 0x18); /* queue_size */
	cr_assert_eq(vbt_cfg_read(cap + 16, 2), VBLK_QUEUE_MAX);
	vbt_cfg_write(cap + 12, 4, 3); /* not 1, 2 or 4: nothing */
	cr_assert_eq(vbt_cfg_read(cap + 16, 4), 0);
	vbt_cfg_write(cap + 4, 1, 2); /* a BAR the device does not have */
	vbt_cfg_write(cap + 12, 4, 2);
	cr_assert_eq(vbt_cfg_read(cap + 16, 2), 0);
	vbt_cfg_write(cap + 4, 1, VBLK_NOTIFY_BAR);
	vbt_cfg_write(cap + 8, 4, 0);
	uint64_t notifies = vbt->dev.stats.notifies;
	vbt_cfg_write(cap + 16, 2, 0);
	cr_assert_eq(vbt->dev.stats.notifies, notifies + 1);
}
