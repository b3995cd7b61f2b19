/* The device list: every function on the buses in range, with its BARs
 * sized (the firmware assigned the addresses; the hypervisor keeps them). */
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_internal.h"
#include "hv/core/log.h"
#include "hv/lib/table.h"
#include "hv/mm/mm.h"

static struct pci_device devices[PCI_MAX_DEVICES];
static struct table found = TABLE_OF(devices);

size_t pci_device_count(void)
{
	return table_count(&found);
}

struct pci_device *pci_device_at(size_t i)
{
	return table_at(&found, i);
}

const char *pci_access_method(void)
{
	return pci_config_has_ecam() ? "ecam" : "ports";
}

/* Sizes BAR i (decoding is off meanwhile); returns how many BAR slots it
 * used (2 for a 64-bit memory BAR). */
static int size_bar(struct pci_device *d, int i)
{
	uint16_t off = PCI_CFG_BAR0 + 4 * i;
	uint32_t orig = pci_read32(d, off);
	struct pci_bar *b = &d->bar[i];

	pci_write32(d, off, 0xffffffff);
	uint32_t mask = pci_read32(d, off);
	pci_write32(d, off, orig);
	if (!mask || mask == 0xffffffff)
		return 1; /* not implemented (or nothing answers) */

	if (orig & 1) {
		b->io = true;
		b->base = orig & ~3u;
		b->size = (~(mask & ~3u) + 1) & 0xffff;
		return 1;
	}
	b->prefetchable = orig & 8;
	uint64_t base = orig & ~0xfu, size_mask = mask & ~0xfu;
	if (((orig >> 1) & 3) == 2 && i + 1 < PCI_BARS) {
		uint32_t orig_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, 0xffffffff);
		uint32_t mask_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, orig_hi);
		b->is64 = true;
		base |= (uint64_t)orig_hi << 32;
		size_mask |= (uint64_t)mask_hi << 32;
	} else {
		size_mask |= 0xffffffff00000000ull;
	}
	b->base = base;
	b->size = ~size_mask + 1;
	return b->is64 ? 2 : 1;
}

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	struct pci_device *d = table_add(&found);

	if (!d) {
		log_warn("pci: more than %d functions; %02x:%02x.%x and later ignored",
			 PCI_MAX_DEVICES, bus, dev, fn);
		return;
	}
	*d = (struct pci_device){ .bus = bus, .dev = dev, .fn = fn,
				  .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16) };
	uint32_t cls = pci_read32(d, PCI_CFG_CLASS);
	d->revision = (uint8_t)cls;
	d->prog_if = (uint8_t)(cls >> 8);
	d->subclass = (uint8_t)(cls >> 16);
	d->class_code = (uint8_t)(cls >> 24);

	if ((pci_read8(d, PCI_CFG_HEADER_TYPE) & 0x7f) != 0)
		return; /* bridges: no BARs drivers here care about */
	uint16_t cmd = pci_read16(d, PCI_CFG_COMMAND);
	pci_write16(d, PCI_CFG_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (int i = 0; i < PCI_BARS;)
		i += size_bar(d, i);
	pci_write16(d, PCI_CFG_COMMAND, cmd);
}

static void scan_bus(uint8_t bus)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = pci_config_read32(bus, dev, 0, PCI_CFG_VENDOR);
		if ((id & 0xffff) == 0xffff)
			continue;
		uint8_t header = (uint8_t)(pci_config_read32(bus, dev, 0, 0x0c) >> 16);
		add_function(bus, dev, 0, id);
		for (uint8_t fn = 1; (header & 0x80) && fn < 8; fn++) {
			id = pci_config_read32(bus, dev, fn, PCI_CFG_VENDOR);
			if ((id & 0xffff) != 0xffff)
				add_function(bus, dev, fn, id);
		}
	}
}

void pci_init(uint64_t ecam_base, uint8_t bus_first, uint8_t bus_last)
{
	if (!pci_config_use_ecam(ecam_base, bus_first, bus_last)) {
		if (ecam_base)
			log_warn("pci: ECAM at 0x%lx unusable; using configuration ports",
				 (unsigned long)ecam_base);
		bus_first = 0;
		bus_last = 255;
	}
	for (unsigned bus = bus_first; bus <= bus_last; bus++)
		scan_bus((uint8_t)bus);
	log_info("pci: %zu functions on buses %u-%u (%s)", table_count(&found), bus_first, bus_last,
		 pci_access_method());
}

void pci_enable(const struct pci_device *d)
{
	uint16_t cmd = pci_read16(d, PCI_CFG_COMMAND);

	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
	pci_write16(d, PCI_CFG_COMMAND, cmd);
}

uint8_t pci_find_cap(const struct pci_device *d, uint8_t id, uint8_t after)
{
	if (!(pci_read16(d, PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t off = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CFG_CAP_PTR);
	/* A malformed list could loop: 48 capabilities fill the 256 bytes. */
	for (int guard = 0; off >= 0x40 && guard < 48; guard++) {
		off &= ~3u;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

volatile void *pci_map_bar(const struct pci_device *d, int bar)
{
	if (bar < 0 || bar >= PCI_BARS)
		return NULL;
	const struct pci_bar *b = &d->bar[bar];
	if (b->io || !b->base || !b->size || !mm_map_mmio(b->base, b->size))
		return NULL;
	return phys_to_virt(b->base);
}
