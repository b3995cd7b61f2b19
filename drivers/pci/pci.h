/* PCI: configuration space access (ECAM from the ACPI MCFG table, the
 * legacy 0xcf8/0xcfc ports when there is none), a device list built once at
 * boot, BARs sized and mapped for drivers. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64
#define PCI_BARS 6

#define PCI_CFG_VENDOR 0x00
#define PCI_CFG_DEVICE 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_CLASS 0x08 /* revision, prog-if, subclass, class */
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_SECONDARY_BUS 0x19

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11

#define PCI_CLASS_NETWORK 0x02

struct pci_bar {
	uint64_t base; /* 0: not implemented */
	uint64_t size;
	bool io;
	bool is64;
	bool prefetchable;
};

struct pci_device {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	struct pci_bar bar[PCI_BARS];
	const char *driver; /* name of the driver that took it, NULL if none */
};

/* Scans every bus the MCFG covers (or 0-255 through the ports). */
void pci_init(uint64_t ecam_base, uint8_t bus_first, uint8_t bus_last);

size_t pci_device_count(void);
struct pci_device *pci_device_at(size_t i);
const char *pci_access_method(void);

uint32_t pci_read32(const struct pci_device *d, uint16_t off);
uint16_t pci_read16(const struct pci_device *d, uint16_t off);
uint8_t pci_read8(const struct pci_device *d, uint16_t off);
void pci_write32(const struct pci_device *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_device *d, uint16_t off, uint16_t v);

/* Enables memory/I/O decoding and bus mastering; disables INTx (drivers
 * poll). */
void pci_enable(const struct pci_device *d);

/* Offset of the first/next capability with this ID, 0 if none. */
uint8_t pci_find_cap(const struct pci_device *d, uint8_t id, uint8_t after);

/* Maps a memory BAR into the host page tables; returns its virtual address
 * (identity map) or NULL if it is not a memory BAR or mapping failed. */
volatile void *pci_map_bar(const struct pci_device *d, int bar);

#endif
