#include "hv/vdev/vpci_config.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"

/* BAR low bits (PCI 3.0, 6.2.5.1): bit 0 is 1 for I/O; for memory, bits 2:1
 * are the type (00 32-bit, 10 64-bit) and bit 3 prefetchable. */
#define BAR_IO 0x1u
#define BAR_MEM_TYPE_64 0x4u
#define BAR_MEM_PREFETCH 0x8u
#define BAR_IO_FLAGS_MASK 0x3u
#define BAR_MEM_FLAGS_MASK 0xfu
#define IO_BAR_MIN 4
#define IO_BAR_MAX 256     /* "devices should not use more than 256 bytes per I/O BAR" */
#define MEM_BAR_MIN 16
#define MEM32_BAR_MAX 0x80000000ull

#define COMMAND_DEFAULT_WMASK (PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
			       PCI_COMMAND_INTX_DISABLE)

static void set32(struct vpci_config *cfg, unsigned off, uint32_t v)
{
	put_le32(cfg->bytes + off, v);
}

static void set_wmask32(struct vpci_config *cfg, unsigned off, uint32_t mask)
{
	put_le32(cfg->wmask + off, mask);
}

void vpci_config_set16(struct vpci_config *cfg, unsigned off, uint16_t v)
{
	put_le16(cfg->bytes + off, v);
}

void vpci_config_set_wmask16(struct vpci_config *cfg, unsigned off, uint16_t mask)
{
	put_le16(cfg->wmask + off, mask);
}

void vpci_config_init(struct vpci_config *cfg, uint16_t vendor, uint16_t device,
		      uint32_t class_code, uint8_t revision, uint8_t header_type)
{
	memset(cfg, 0, sizeof(*cfg));
	vpci_config_set16(cfg, PCI_VENDOR_ID, vendor);
	vpci_config_set16(cfg, PCI_DEVICE_ID, device);
	cfg->bytes[PCI_REVISION_ID] = revision;
	cfg->bytes[PCI_CLASS_PROG] = (uint8_t)class_code;
	cfg->bytes[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	cfg->bytes[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	cfg->bytes[PCI_HEADER_TYPE] = header_type;
	vpci_config_set_wmask16(cfg, PCI_COMMAND, COMMAND_DEFAULT_WMASK);
	put_le16(cfg->w1c + PCI_STATUS, PCI_STATUS_ERRORS);
	cfg->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	cfg->wmask[PCI_LATENCY_TIMER] = 0xff;
	cfg->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void vpci_config_set_interrupt_pin(struct vpci_config *cfg, uint8_t pin)
{
	cfg->bytes[PCI_INTERRUPT_PIN] = pin <= 4 ? pin : 0;
}

static unsigned bar_offset(unsigned index)
{
	return PCI_BAR0 + 4 * index;
}

/* A declared BAR has writable address bits. */
static bool bar_declared(const struct vpci_config *cfg, unsigned index)
{
	return get_le32(cfg->wmask + bar_offset(index)) != 0;
}

static bool is_upper_half(const struct vpci_config *cfg, unsigned index)
{
	if (index == 0 || !bar_declared(cfg, index - 1))
		return false;
	uint32_t prev = get_le32(cfg->bytes + bar_offset(index - 1));
	return !(prev & BAR_IO) && (prev & BAR_MEM_TYPE_64);
}

static bool bar_size_ok(enum vpci_bar_kind kind, uint64_t size)
{
	if (size == 0 || (size & (size - 1)))
		return false;
	switch (kind) {
	case VPCI_BAR_IO: return size >= IO_BAR_MIN && size <= IO_BAR_MAX;
	case VPCI_BAR_MEM32: return size >= MEM_BAR_MIN && size <= MEM32_BAR_MAX;
	case VPCI_BAR_MEM64: return size >= MEM_BAR_MIN;
	}
	return false;
}

bool vpci_config_set_bar(struct vpci_config *cfg, unsigned index, enum vpci_bar_kind kind,
			 uint64_t size, bool prefetchable)
{
	bool wide = kind == VPCI_BAR_MEM64;

	/* The upper half of a 64-bit BAR is declared too (its mask is not 0). */
	if (index + wide >= VPCI_BAR_COUNT || !bar_size_ok(kind, size) ||
	    bar_declared(cfg, index) || (wide && bar_declared(cfg, index + 1)))
		return false;
	unsigned off = bar_offset(index);
	uint16_t command_wmask = get_le16(cfg->wmask + PCI_COMMAND);
	if (kind == VPCI_BAR_IO) {
		set32(cfg, off, BAR_IO);
		set_wmask32(cfg, off, (uint32_t)~(size - 1) & ~BAR_IO_FLAGS_MASK);
		command_wmask |= PCI_COMMAND_IO;
	} else {
		uint32_t type = wide ? BAR_MEM_TYPE_64 : 0;
		set32(cfg, off, type | (prefetchable ? BAR_MEM_PREFETCH : 0));
		set_wmask32(cfg, off, (uint32_t)~(size - 1) & ~BAR_MEM_FLAGS_MASK);
		if (wide)
			set_wmask32(cfg, off + 4, (uint32_t)(~(size - 1) >> 32));
		command_wmask |= PCI_COMMAND_MEMORY;
	}
	vpci_config_set_wmask16(cfg, PCI_COMMAND, command_wmask);
	return true;
}

bool vpci_config_bar(const struct vpci_config *cfg, unsigned index, uint64_t *address,
		     bool *enabled)
{
	if (index >= VPCI_BAR_COUNT || !bar_declared(cfg, index))
		return false;
	if (is_upper_half(cfg, index))
		return false;
	uint32_t low = get_le32(cfg->bytes + bar_offset(index));
	uint16_t command = get_le16(cfg->bytes + PCI_COMMAND);
	if (low & BAR_IO) {
		*address = low & ~BAR_IO_FLAGS_MASK;
		*enabled = command & PCI_COMMAND_IO;
		return true;
	}
	*address = low & ~BAR_MEM_FLAGS_MASK;
	if (low & BAR_MEM_TYPE_64)
		*address |= (uint64_t)get_le32(cfg->bytes + bar_offset(index + 1)) << 32;
	*enabled = command & PCI_COMMAND_MEMORY;
	return true;
}

/* The capability the list ends with, or 0 for an empty list. The model
 * built the list, so it ends; the bound only keeps a bug from looping. */
static unsigned last_capability(const struct vpci_config *cfg)
{
	unsigned at = cfg->bytes[PCI_CAPABILITY_LIST], last = 0;

	for (unsigned hops = 0; at && hops < VPCI_CONFIG_SIZE / 4; hops++) {
		last = at;
		at = cfg->bytes[at + 1];
	}
	return last;
}

unsigned vpci_config_add_capability(struct vpci_config *cfg, uint8_t id, const void *body,
				    unsigned body_len)
{
	unsigned at = cfg->cap_free ? cfg->cap_free : VPCI_CAP_FIRST;

	if (id == 0 || body_len > VPCI_CONFIG_SIZE || at + 2 + body_len > VPCI_CONFIG_SIZE)
		return 0;
	unsigned last = last_capability(cfg);
	cfg->bytes[at] = id;
	cfg->bytes[at + 1] = 0;
	if (body_len)
		memcpy(cfg->bytes + at + 2, body, body_len);
	if (last)
		cfg->bytes[last + 1] = (uint8_t)at;
	else
		cfg->bytes[PCI_CAPABILITY_LIST] = (uint8_t)at;
	cfg->bytes[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	unsigned end = (at + 2 + body_len + 3) & ~3u;
	cfg->cap_free = (uint16_t)end;
	return at;
}

uint32_t vpci_config_read(const struct vpci_config *cfg, unsigned offset, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)cfg->bytes[offset + i] << (8 * i);
	return v;
}

void vpci_config_write(struct vpci_config *cfg, unsigned offset, unsigned width, uint32_t value)
{
	for (unsigned i = 0; i < width; i++) {
		unsigned at = offset + i;
		uint8_t b = (uint8_t)(value >> (8 * i));
		uint8_t v = (uint8_t)((cfg->bytes[at] & ~cfg->wmask[at]) | (b & cfg->wmask[at]));
		cfg->bytes[at] = (uint8_t)(v & ~(b & cfg->w1c[at]));
	}
}
