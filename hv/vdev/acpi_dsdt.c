/* The DSDT, as ASL:
 *
 *   DefinitionBlock ("", "DSDT", 2, "HVEFI ", "HVPC    ", 1)
 *   {
 *       Name (_S5, Package () { 5, 5, 0, 0 })  // SLP_TYPa, SLP_TYPb, reserved
 *       Scope (\_SB)
 *       {
 *           Device (PCI0)                      // only with p->pci_root
 *           {
 *               Name (_HID, EisaId ("PNP0A03"))
 *               Name (_UID, 0)
 *               Name (_CRS, ResourceTemplate () {
 *                   WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                                  0, 0, 0xff, 0, 0x100)
 *                   IO (Decode16, 0xcf8, 0xcf8, 1, 8)
 *                   WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                           0, 0, 0xcf7, 0, 0xcf8)
 *                   WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                           0, 0xd00, 0xffff, 0, 0xf300)
 *                   DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *                                NonCacheable, ReadWrite, 0, base, base + size - 1, 0, size)
 *               })                                 // the memory window if size != 0
 *               Name (_PRT, Package () {           // slots 1-31, INTA#-INTD#
 *                   Package () { 0x0001ffff, 0, 0, 17 }, ...
 *               })
 *           }
 *           Device (MBRS) { ... }               // with p->mcfg: see motherboard_resources
 *       }
 *   }
 *
 * The \_S5 bytes: 08 '_S5_' 12 08 04 0a 05 0a 05 00 00 (NameOp, the name,
 * PackageOp, PkgLength 8, four elements, BytePrefix 5 twice, Zero twice). */
#include "hv/vdev/acpi_dsdt.h"

#include "hv/vdev/aml.h"

#define PCI_SLOTS 32
#define PCI_PINS 4

/* ACPI 6.0, 6.4.3.5: Word and DWord Address Space Descriptors. */
enum {
	RES_WORD_ADDRESS = 0x88, RES_DWORD_ADDRESS = 0x87, RES_IO_PORT = 0x47, RES_END = 0x79,
	RES_MEMORY32_FIXED = 0x86,
	RES_TYPE_MEMORY = 0, RES_TYPE_IO = 1, RES_TYPE_BUS = 2,
	RES_PRODUCER_MIN_MAX_FIXED = 0x0c, /* _MIF | _MAF, positive decode, producer */
	RES_IO_ENTIRE_RANGE = 0x03,        /* _RNG */
	RES_MEM_READ_WRITE = 0x01,         /* _RW, non-cacheable */
};

static void le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* Granularity 0, translation 0: [min, max], length max - min + 1. */
static void word_address(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min,
			 uint16_t max)
{
	aml_byte(a, RES_WORD_ADDRESS);
	le(a, 13, 2);
	aml_byte(a, type);
	aml_byte(a, RES_PRODUCER_MIN_MAX_FIXED);
	aml_byte(a, type_flags);
	le(a, 0, 2);
	le(a, min, 2);
	le(a, max, 2);
	le(a, 0, 2);
	le(a, (uint32_t)max - min + 1, 2);
}

static void dword_memory(struct aml *a, uint32_t base, uint32_t size)
{
	aml_byte(a, RES_DWORD_ADDRESS);
	le(a, 23, 2);
	aml_byte(a, RES_TYPE_MEMORY);
	aml_byte(a, RES_PRODUCER_MIN_MAX_FIXED);
	aml_byte(a, RES_MEM_READ_WRITE);
	le(a, 0, 4);
	le(a, base, 4);
	le(a, base + (size - 1), 4);
	le(a, 0, 4);
	le(a, size, 4);
}

static void pci_crs(struct aml *a, const struct acpi_platform *p)
{
	static const uint8_t config_ports[8] = { RES_IO_PORT, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8 };

	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	size_t buffer = aml_open(a);
	unsigned len = 16 + 8 + 16 + 16 + (p->pci_mmio_size ? 26 : 0) + 2;
	aml_integer(a, len);
	word_address(a, RES_TYPE_BUS, 0, 0, 0xff);
	aml_bytes(a, config_ports, sizeof(config_ports));
	word_address(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0, 0xcf7);
	word_address(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0xd00, 0xffff);
	if (p->pci_mmio_size)
		dword_memory(a, p->pci_mmio_base, p->pci_mmio_size);
	aml_byte(a, RES_END);
	aml_byte(a, 0); /* checksum 0: "treated as if the checksum operation succeeded" */
	aml_close(a, buffer);
}

static void pci_prt(struct aml *a)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	size_t outer = aml_open(a);
	aml_byte(a, (PCI_SLOTS - 1) * PCI_PINS);
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_PINS; pin++) {
			aml_byte(a, AML_PACKAGE);
			size_t entry = aml_open(a);
			aml_byte(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff); /* any function */
			aml_integer(a, pin);
			aml_integer(a, 0); /* Source 0: the index is a GSI */
			aml_integer(a, acpi_pci_intx_gsi(slot, pin));
			aml_close(a, entry);
		}
	}
	aml_close(a, outer);
}

static void pci_root(struct aml *a, const struct acpi_platform *p)
{
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE);
	size_t device = aml_open(a);
	aml_nameseg(a, "PCI0");
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_UID");
	aml_integer(a, 0);
	pci_crs(a, p);
	pci_prt(a);
	aml_close(a, device);
}

/* Motherboard resources (PNP0C02) claiming the ECAM window, which is how
 * ACPI says an MCFG region is reserved (PCI Firmware Spec 3.2, 4.1.2):
 *
 *   Device (MBRS) {
 *       Name (_HID, EisaId ("PNP0C02"))
 *       Name (_UID, 1)
 *       Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, size) })
 *   } */
static void motherboard_resources(struct aml *a, const struct acpi_platform *p)
{
	uint64_t size = (uint64_t)(p->ecam_bus_last - p->ecam_bus_first + 1) << 20;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE);
	size_t device = aml_open(a);
	aml_nameseg(a, "MBRS");
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_UID");
	aml_integer(a, 1);
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	size_t buffer = aml_open(a);
	aml_integer(a, 12 + 2);
	aml_byte(a, RES_MEMORY32_FIXED);
	le(a, 9, 2);
	aml_byte(a, 1); /* read-write */
	le(a, p->ecam_base + ((uint64_t)p->ecam_bus_first << 20), 4);
	le(a, size, 4);
	aml_byte(a, RES_END);
	aml_byte(a, 0);
	aml_close(a, buffer);
	aml_close(a, device);
}

size_t acpi_dsdt_aml(uint8_t *buf, size_t size, const struct acpi_platform *p)
{
	struct aml a;

	aml_init(&a, buf, size);
	aml_byte(&a, AML_NAME);
	aml_nameseg(&a, "_S5_");
	aml_byte(&a, AML_PACKAGE);
	size_t s5 = aml_open(&a);
	aml_byte(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a, s5);

	aml_byte(&a, AML_SCOPE);
	size_t sb = aml_open(&a);
	aml_byte(&a, AML_ROOT_CHAR);
	aml_nameseg(&a, "_SB_");
	if (p->pci_root)
		pci_root(&a, p);
	if (p->mcfg)
		motherboard_resources(&a, p);
	aml_close(&a, sb);
	return a.overflow ? 0 : a.pos;
}
