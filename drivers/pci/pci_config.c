/* Configuration space access: ECAM (memory mapped, 4 KiB per function)
 * where ACPI describes it, else configuration mechanism #1 (ports), which
 * reaches only the first 256 bytes. */
#include "drivers/pci/pci.h"
#include "drivers/pci/pci_internal.h"
#include "hv/mm/mm.h"
#include "hv/x86/cpu.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

static uint64_t ecam_base;
static uint8_t ecam_first, ecam_last;

bool pci_config_use_ecam(uint64_t base, uint8_t first, uint8_t last)
{
	uint64_t size = ((uint64_t)last - first + 1) << 20;

	if (!base || last < first || !mm_map_mmio(base + ((uint64_t)first << 20), size))
		return false;
	ecam_base = base;
	ecam_first = first;
	ecam_last = last;
	return true;
}

bool pci_config_has_ecam(void)
{
	return ecam_base != 0;
}

static volatile void *ecam_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (!ecam_base || bus < ecam_first || bus > ecam_last || off >= 4096)
		return NULL;
	return phys_to_virt(ecam_base + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) +
			    ((uint64_t)fn << 12) + off);
}

static uint32_t port_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 |
	       (off & 0xfc);
}

uint32_t pci_config_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	volatile uint32_t *p = ecam_addr(bus, dev, fn, off & ~3u);

	if (p)
		return *p;
	if (off >= 256)
		return 0xffffffff;
	outl(PCI_CONFIG_ADDRESS, port_address(bus, dev, fn, off));
	return inl(PCI_CONFIG_DATA);
}

void pci_config_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	volatile uint32_t *p = ecam_addr(bus, dev, fn, off & ~3u);

	if (p) {
		*p = v;
		return;
	}
	if (off >= 256)
		return;
	outl(PCI_CONFIG_ADDRESS, port_address(bus, dev, fn, off));
	outl(PCI_CONFIG_DATA, v);
}

uint32_t pci_read32(const struct pci_device *d, uint16_t off)
{
	return pci_config_read32(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_device *d, uint16_t off)
{
	return (uint16_t)(pci_read32(d, off & ~3u) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_device *d, uint16_t off)
{
	return (uint8_t)(pci_read32(d, off & ~3u) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_device *d, uint16_t off, uint32_t v)
{
	pci_config_write32(d->bus, d->dev, d->fn, off, v);
}

/* Read-modify-write of the containing dword: the status register beside
 * the command register is write-1-to-clear, so its bits are written as 0. */
void pci_write16(const struct pci_device *d, uint16_t off, uint16_t v)
{
	uint32_t old = pci_read32(d, off & ~3u);
	unsigned shift = (off & 2) * 8;

	if ((off & ~3u) == PCI_CFG_COMMAND)
		old &= 0x0000ffff;
	old = (old & ~(0xffffu << shift)) | (uint32_t)v << shift;
	pci_write32(d, off & ~3u, old);
}
