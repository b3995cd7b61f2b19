/* The virtio-blk PCI function: configuration space and capabilities, the
 * BAR's decoding (ISR, device configuration, notifications; the common
 * configuration is virtio_blk_common.c) and the INTx line. Section numbers
 * are the virtio 1.2 specification's. */
#include "hv/vdev/virtio_blk.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"
#include "hv/vdev/virtio_blk_priv.h"
#include "hv/vdev/vpci.h"

#define PCI_REVISION 1           /* non-transitional (4.1.2.1) */
#define INTERRUPT_PIN_INTA 1
#define SECTOR_SIZE 512

/* struct virtio_pci_cap (4.1.4): cfg_type values and the sizes. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_PCI_CFG 5
#define PCI_CFG_DATA 16 /* pci_cfg_data within the capability */
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_LEN 16
#define NOTIFY_CAP_LEN 20

/* struct virtio_blk_config (5.2.4) offsets. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20

uint64_t vblk_offered_features(const struct vblk *b)
{
	return VBLK_F_VERSION_1 | VBLK_F_SIZE_MAX | VBLK_F_SEG_MAX | VBLK_F_BLK_SIZE |
	       VBLK_F_FLUSH | (b->read_only ? VBLK_F_RO : 0);
}

bool vblk_features_acceptable(const struct vblk *b, uint64_t features)
{
	return !(features & ~vblk_offered_features(b)) && (features & VBLK_F_VERSION_1);
}

/* A vendor-specific capability pointing into the BAR; 'extra' (the notify
 * capability's multiplier) follows when extra_len is 4. */
static unsigned add_virtio_cap(struct vpci_config *cfg, uint8_t type, uint8_t bar,
			       uint32_t offset, uint32_t length, uint32_t extra, unsigned extra_len)
{
	uint8_t body[NOTIFY_CAP_LEN - 2] = { 0 };

	body[0] = (uint8_t)(CAP_LEN + extra_len); /* cap_len counts id and next too */
	body[1] = type;
	body[2] = bar;
	/* body[3] is the 1.2 'id' (0: the only one of its type), 4-5 padding */
	put_le32(body + 6, offset);
	put_le32(body + 10, length);
	if (extra_len)
		put_le32(body + 14, extra);
	return vpci_config_add_capability(cfg, PCI_CAP_ID_VENDOR, body, CAP_LEN - 2 + extra_len);
}

/* 4.1.4.9: the PCI configuration access capability, a window into the
 * BARs through configuration space: the driver writes bar, offset and
 * length, then reads or writes pci_cfg_data. */
static void add_pci_cfg_cap(struct vpci_config *cfg)
{
	unsigned at = add_virtio_cap(cfg, CAP_PCI_CFG, 0, 0, 0, 0, 4);

	if (at != VBLK_PCI_CFG_CAP)
		return; /* the layout below is fixed: never happens */
	cfg->wmask[at + 4] = 0xff;
	for (unsigned i = 0; i < 4; i++) {
		cfg->wmask[at + 8 + i] = 0xff;
		cfg->wmask[at + 12 + i] = 0xff;
		cfg->wmask[at + PCI_CFG_DATA + i] = 0xff;
	}
}

static void pci_init(struct vpci_config *cfg)
{
	vpci_config_init(cfg, VBLK_PCI_VENDOR, VBLK_PCI_DEVICE, VBLK_PCI_CLASS, PCI_REVISION, 0);
	vpci_config_set16(cfg, PCI_SUBSYSTEM_VENDOR_ID, VBLK_PCI_VENDOR);
	vpci_config_set16(cfg, PCI_SUBSYSTEM_ID, VBLK_PCI_SUBSYSTEM);
	vpci_config_set_interrupt_pin(cfg, INTERRUPT_PIN_INTA);
	/* Not prefetchable: reading the ISR clears it. */
	vpci_config_set_bar(cfg, VBLK_BAR, VPCI_BAR_MEM64, VBLK_BAR_SIZE, false);
	vpci_config_set_bar(cfg, VBLK_NOTIFY_BAR, VPCI_BAR_IO, VBLK_NOTIFY_PORTS, false);
	add_virtio_cap(cfg, CAP_COMMON, VBLK_BAR, VBLK_COMMON_OFFSET, VBLK_COMMON_LENGTH, 0, 0);
	add_virtio_cap(cfg, CAP_ISR, VBLK_BAR, VBLK_ISR_OFFSET, VBLK_ISR_LENGTH, 0, 0);
	add_virtio_cap(cfg, CAP_DEVICE, VBLK_BAR, VBLK_DEVICE_OFFSET, VBLK_DEVICE_LENGTH, 0, 0);
	add_virtio_cap(cfg, CAP_NOTIFY, VBLK_NOTIFY_BAR, 0, VBLK_NOTIFY_PORTS, 0, 4);
	add_pci_cfg_cap(cfg);
}

void vblk_init(struct vblk *b, uint64_t capacity_sectors, bool read_only, const char *serial,
	       const struct vblk_mem *mem, const struct vblk_backend *backend,
	       const struct irq_line *irq)
{
	memset(b, 0, sizeof(*b));
	pci_init(&b->pci);
	b->capacity = capacity_sectors;
	b->read_only = read_only;
	for (size_t i = 0; serial && i < sizeof(b->serial) && serial[i]; i++)
		b->serial[i] = serial[i];
	b->mem = *mem;
	b->backend = *backend;
	b->irq = *irq;
	vblk_reset(b);
}

/* ---- The INTx line. */

static bool intx_disabled(const struct vblk *b)
{
	return vpci_config_read(&b->pci, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
}

void vblk_sync_irq(struct vblk *b)
{
	bool level = b->isr != 0 && !intx_disabled(b);

	if (level != b->irq_level) {
		b->irq_level = level;
		irq_set(&b->irq, level);
	}
}

void vblk_raise(struct vblk *b, uint8_t isr_bits)
{
	b->isr |= isr_bits;
	b->stats.interrupts++;
	vblk_sync_irq(b);
}

void vblk_set_needs_reset(struct vblk *b)
{
	b->stats.needs_reset++;
	b->status |= VBLK_S_NEEDS_RESET;
	vblk_raise(b, VBLK_ISR_CONFIG);
}

/* PCI 3.0, 6.2.3: the status register's Interrupt Status bit shows the
 * function's pending INTx whatever Interrupt Disable says. */
/* The access the PCI configuration capability describes: BAR 'bar' at
 * 'offset', 'length' bytes (1, 2 or 4). False when it names nothing. */
static bool cfg_window(const struct vpci_config *cfg, unsigned *bar, uint32_t *offset,
		       unsigned *length)
{
	*bar = cfg->bytes[VBLK_PCI_CFG_CAP + 4];
	*offset = vpci_config_read(cfg, VBLK_PCI_CFG_CAP + 8, 4);
	*length = vpci_config_read(cfg, VBLK_PCI_CFG_CAP + 12, 4);
	return (*length == 1 || *length == 2 || *length == 4) &&
	       (*bar == VBLK_BAR || *bar == VBLK_NOTIFY_BAR);
}

static bool touches_cfg_data(unsigned offset, unsigned width)
{
	unsigned data = VBLK_PCI_CFG_CAP + PCI_CFG_DATA;

	return offset < data + 4 && offset + width > data;
}

static bool pci_read(void *ctx, const struct vpci_config *cfg, unsigned offset, unsigned width,
		     uint32_t *value)
{
	struct vblk *b = ctx;

	if (touches_cfg_data(offset, width)) {
		unsigned bar, length;
		uint32_t at, data = 0;
		if (cfg_window(cfg, &bar, &at, &length))
			data = bar == VBLK_BAR ? (uint32_t)vblk_bar_read(b, at, length)
					       : vblk_io_read(b, at, length);
		unsigned dstart = VBLK_PCI_CFG_CAP + PCI_CFG_DATA;
		*value = 0;
		for (unsigned i = 0; i < width; i++) {
			unsigned o = offset + i;
			uint8_t byte = o >= dstart && o < dstart + 4 ? (uint8_t)(data >> 8 * (o - dstart))
							      : cfg->bytes[o];
			*value |= (uint32_t)byte << (8 * i);
		}
		return true;
	}
	if (offset > PCI_STATUS || offset + width <= PCI_STATUS)
		return false;
	*value = vpci_config_read(cfg, offset, width);
	if (b->isr)
		*value |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - offset));
	return true;
}

static void pci_written(void *ctx, struct vpci_config *cfg, unsigned offset, unsigned width,
			uint32_t old)
{
	struct vblk *b = ctx;
	unsigned bar, length;
	uint32_t at;

	(void)old;
	if (offset <= PCI_COMMAND + 1 && offset + width > PCI_COMMAND + 1)
		vblk_sync_irq(b); /* Interrupt Disable is bit 10 */
	if (!touches_cfg_data(offset, width) || !cfg_window(cfg, &bar, &at, &length))
		return;
	uint32_t data = vpci_config_read(cfg, VBLK_PCI_CFG_CAP + PCI_CFG_DATA, length);
	if (bar == VBLK_BAR)
		vblk_bar_write(b, at, length, data);
	else
		vblk_io_write(b, at, length, data);
}

const struct vpci_function_ops vblk_pci_ops = { .read = pci_read, .written = pci_written };

/* ---- The BAR. */

static bool inside(uint64_t offset, unsigned width, uint64_t start, uint64_t length)
{
	return offset >= start && offset - start + width <= length;
}

/* 4.1.4.5: reading the ISR returns it and clears it, which de-asserts the
 * line. Any width: the status is the first byte. */
static uint8_t read_isr(struct vblk *b)
{
	uint8_t v = b->isr;

	b->isr = 0;
	vblk_sync_irq(b);
	return v;
}

/* 5.2.4; fields of features not offered read 0. */
static uint64_t device_config_read(const struct vblk *b, unsigned off, unsigned width)
{
	uint8_t cfg[VBLK_DEVICE_LENGTH] = { 0 };
	uint64_t v = 0;

	put_le64(cfg + CFG_CAPACITY, b->capacity);
	put_le32(cfg + CFG_SIZE_MAX, VBLK_SIZE_MAX);
	put_le32(cfg + CFG_SEG_MAX, VBLK_SEG_MAX);
	put_le32(cfg + CFG_BLK_SIZE, SECTOR_SIZE);
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)cfg[off + i] << (8 * i);
	return v;
}

static bool width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

uint64_t vblk_bar_read(struct vblk *b, uint64_t offset, unsigned width)
{
	if (width_ok(width)) {
		if (inside(offset, width, VBLK_COMMON_OFFSET, VBLK_COMMON_LENGTH))
			return vblk_common_read(b, (unsigned)(offset - VBLK_COMMON_OFFSET), width);
		if (offset == VBLK_ISR_OFFSET && width <= 4)
			return read_isr(b);
		if (inside(offset, width, VBLK_DEVICE_OFFSET, VBLK_DEVICE_LENGTH))
			return device_config_read(b, (unsigned)(offset - VBLK_DEVICE_OFFSET),
						  width);
	}
	b->stats.bad_accesses++; /* the notify area is write-only; the rest is a hole */
	return 0;
}

/* 4.1.4.4: the driver writes the queue's index to its notify address. */
static void notify(struct vblk *b, unsigned width, uint64_t value)
{
	b->stats.notifies++;
	if ((width != 2 && width != 4) || (uint16_t)value != 0) {
		b->stats.bad_accesses++; /* only queue 0 exists */
		return;
	}
	vblk_process_queue(b);
}

uint32_t vblk_io_read(struct vblk *b, unsigned offset, unsigned width)
{
	(void)offset;
	(void)width;
	b->stats.bad_accesses++; /* write-only */
	return 0;
}

void vblk_io_write(struct vblk *b, unsigned offset, unsigned width, uint32_t value)
{
	if (offset != 0 || width > VBLK_NOTIFY_PORTS) {
		b->stats.bad_accesses++;
		return;
	}
	notify(b, width, value);
}

void vblk_bar_write(struct vblk *b, uint64_t offset, unsigned width, uint64_t value)
{
	if (!width_ok(width)) {
		b->stats.bad_accesses++;
	} else if (inside(offset, width, VBLK_COMMON_OFFSET, VBLK_COMMON_LENGTH)) {
		vblk_common_write(b, (unsigned)(offset - VBLK_COMMON_OFFSET), width, value);
	} else if (offset == VBLK_NOTIFY_OFFSET) {
		notify(b, width, value);
	} else {
		/* The ISR is read-only, the configuration has no writable field
		 * (CONFIG_WCE is not offered), the rest is a hole. */
		b->stats.bad_accesses++;
	}
}
