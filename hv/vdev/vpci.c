#include "hv/vdev/vpci.h"

#include "hv/lib/string.h"

#define ADDRESS_WRITABLE 0x80fffffcu /* enable, bus, device, function, register */
#define DATA_PORT 4
#define HOST_BRIDGE_CLASS 0x060000   /* bridge, host bridge */
#define HOST_BRIDGE_REVISION 0x02
#define HOST_BRIDGE_COMMAND (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

static void host_bridge_init(struct vpci_config *cfg)
{
	vpci_config_init(cfg, VPCI_HOST_BRIDGE_VENDOR, VPCI_HOST_BRIDGE_DEVICE, HOST_BRIDGE_CLASS,
			 HOST_BRIDGE_REVISION, 0);
	vpci_config_set16(cfg, PCI_COMMAND, HOST_BRIDGE_COMMAND);
	vpci_config_set_wmask16(cfg, PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
	vpci_config_set16(cfg, PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
	cfg->wmask[PCI_INTERRUPT_LINE] = 0; /* no interrupt: the register is reserved */
}

void vpci_init(struct vpci *pci)
{
	memset(pci, 0, sizeof(*pci));
	host_bridge_init(&pci->host_bridge);
	pci->functions[0] = (struct vpci_function){ .devfn = 0, .cfg = &pci->host_bridge };
	pci->function_count = 1;
}

static struct vpci_function *find(struct vpci *pci, unsigned devfn)
{
	for (unsigned i = 0; i < pci->function_count; i++)
		if (pci->functions[i].devfn == devfn)
			return &pci->functions[i];
	return NULL;
}

bool vpci_register(struct vpci *pci, unsigned device, unsigned function,
		   struct vpci_config *cfg, const struct vpci_function_ops *ops, void *ctx)
{
	if (device > 31 || function > 7 || !cfg || pci->function_count >= VPCI_MAX_FUNCTIONS)
		return false;
	unsigned devfn = device << 3 | function;
	if (find(pci, devfn))
		return false;
	struct vpci_function *f = &pci->functions[pci->function_count++];
	*f = (struct vpci_function){ .devfn = (uint8_t)devfn, .cfg = cfg, .ops = ops, .ctx = ctx };
	return true;
}

struct vpci_config *vpci_function_config(struct vpci *pci, unsigned device, unsigned function)
{
	struct vpci_function *f = device <= 31 && function <= 7 ? find(pci, device << 3 | function)
								  : NULL;

	return f ? f->cfg : NULL;
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, other bus, absent). */
static struct vpci_function *selected(struct vpci *pci)
{
	uint32_t a = pci->address;

	if (!(a & VPCI_ADDRESS_ENABLE) || (a >> 16 & 0xff) != 0)
		return NULL;
	return find(pci, a >> 8 & 0xff);
}

static uint32_t all_ones(unsigned width)
{
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

static bool width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4;
}

/* Accesses inside 0xcfc-0xcff: the register offset for this one. */
static bool data_offset(struct vpci *pci, unsigned offset, unsigned width, unsigned *reg)
{
	unsigned lane = offset - DATA_PORT;

	if (lane + width > 4) {
		pci->bad_accesses++;
		return false;
	}
	*reg = (pci->address & 0xfc) + lane;
	return true;
}

static uint32_t function_read(struct vpci_function *f, unsigned reg, unsigned width)
{
	uint32_t value;

	if (!f->ops || !f->ops->read || !f->ops->read(f->ctx, f->cfg, reg, width, &value))
		value = vpci_config_read(f->cfg, reg, width);
	return value;
}

static void function_write(struct vpci_function *f, unsigned reg, unsigned width, uint32_t value)
{
	uint32_t old = vpci_config_read(f->cfg, reg, width);

	vpci_config_write(f->cfg, reg, width, value);
	if (f->ops && f->ops->written)
		f->ops->written(f->ctx, f->cfg, reg, width, old);
}

bool vpci_io_read(struct vpci *pci, unsigned offset, unsigned width, uint32_t *value)
{
	unsigned reg;

	if (!width_ok(width) || offset >= VPCI_PORT_COUNT) {
		pci->bad_accesses++;
		return false;
	}
	if (offset < DATA_PORT) {
		if (offset != 0 || width != 4)
			return false; /* a normal I/O transaction: not CONFIG_ADDRESS */
		*value = pci->address;
		return true;
	}
	*value = all_ones(width);
	struct vpci_function *f = selected(pci);
	if (!data_offset(pci, offset, width, &reg) || !f)
		return true;
	*value = function_read(f, reg, width);
	return true;
}

bool vpci_io_write(struct vpci *pci, unsigned offset, unsigned width, uint32_t value)
{
	unsigned reg;

	if (!width_ok(width) || offset >= VPCI_PORT_COUNT) {
		pci->bad_accesses++;
		return false;
	}
	if (offset < DATA_PORT) {
		if (offset != 0 || width != 4)
			return false;
		pci->address = value & ADDRESS_WRITABLE;
		return true;
	}
	struct vpci_function *f = selected(pci);
	if (!data_offset(pci, offset, width, &reg) || !f)
		return true;
	function_write(f, reg, width, value);
	return true;
}

/* ECAM: bus 20-27 (only 0 here), device 19-15, function 14-12, register
 * 11-0. A conventional function's extended space (256-4095) reads 0, so no
 * PCI Express capability is found there; absent functions read all ones. */
static struct vpci_function *ecam_function(struct vpci *pci, uint64_t offset, unsigned width,
					   unsigned *reg)
{
	*reg = (unsigned)(offset & 0xfff);
	if (!width_ok(width) || (*reg & (width - 1)) || (offset >> 20) != 0) {
		pci->bad_accesses += !width_ok(width) || (*reg & (width - 1));
		return NULL;
	}
	return find(pci, (unsigned)(offset >> 12) & 0xff);
}

uint32_t vpci_ecam_read(struct vpci *pci, uint64_t offset, unsigned width)
{
	unsigned reg;
	struct vpci_function *f = ecam_function(pci, offset, width, &reg);

	if (!f)
		return all_ones(width > 4 ? 4 : width);
	return reg >= VPCI_CONFIG_SIZE ? 0 : function_read(f, reg, width);
}

void vpci_ecam_write(struct vpci *pci, uint64_t offset, unsigned width, uint32_t value)
{
	unsigned reg;
	struct vpci_function *f = ecam_function(pci, offset, width, &reg);

	if (f && reg < VPCI_CONFIG_SIZE)
		function_write(f, reg, width, value);
}
