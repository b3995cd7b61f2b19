/* The virtio PCI common configuration structure (virtio 1.2, 4.1.4.3):
 * feature negotiation, device status and reset, and the one queue's
 * registers. */
#include "hv/vdev/virtio_blk_priv.h"

/* struct virtio_pci_common_cfg offsets. */
enum {
	DEVICE_FEATURE_SELECT = 0x00, DEVICE_FEATURE = 0x04, DRIVER_FEATURE_SELECT = 0x08,
	DRIVER_FEATURE = 0x0c, MSIX_CONFIG = 0x10, NUM_QUEUES = 0x12, DEVICE_STATUS = 0x14,
	CONFIG_GENERATION = 0x15, QUEUE_SELECT = 0x16, QUEUE_SIZE = 0x18, QUEUE_MSIX_VECTOR = 0x1a,
	QUEUE_ENABLE = 0x1c, QUEUE_NOTIFY_OFF = 0x1e, QUEUE_DESC = 0x20, QUEUE_DRIVER = 0x28,
	QUEUE_DEVICE = 0x30,
};

#define NUM_QUEUES_VALUE 1

/* 4.1.3.1: each field at its own width, 64-bit ones also as two 32-bit
 * halves. Other accesses are not decoded (counted). */
static bool access_ok(unsigned off, unsigned width)
{
	if (off >= QUEUE_DESC)
		return (width == 4 && !(off & 3)) || (width == 8 && !(off & 7));
	switch (off) {
	case DEVICE_FEATURE_SELECT: case DEVICE_FEATURE: case DRIVER_FEATURE_SELECT:
	case DRIVER_FEATURE:
		return width == 4;
	case DEVICE_STATUS: case CONFIG_GENERATION:
		return width == 1;
	case MSIX_CONFIG: case NUM_QUEUES: case QUEUE_SELECT: case QUEUE_SIZE:
	case QUEUE_MSIX_VECTOR: case QUEUE_ENABLE: case QUEUE_NOTIFY_OFF:
		return width == 2;
	default:
		return false; /* e.g. the halves of a 32-bit feature register */
	}
}

void vblk_reset(struct vblk *b)
{
	b->status = 0;
	b->isr = 0;
	b->device_feature_select = 0;
	b->driver_feature_select = 0;
	b->driver_features = 0;
	b->queue_select = 0;
	b->queue_size = VBLK_QUEUE_MAX;
	b->queue_enable = false;
	b->msix_config = VBLK_NO_VECTOR;
	b->queue_msix_vector = VBLK_NO_VECTOR;
	b->queue_desc = b->queue_driver = b->queue_device = 0;
	b->last_avail = 0;
	b->used_idx = 0;
	vblk_sync_irq(b);
}

/* The selected half of a 64-bit value. */
static uint32_t half(uint64_t v, uint32_t select)
{
	return select == 0 ? (uint32_t)v : select == 1 ? (uint32_t)(v >> 32) : 0;
}

static uint64_t *queue_address(struct vblk *b, unsigned off)
{
	if (off < QUEUE_DRIVER)
		return &b->queue_desc;
	return off < QUEUE_DEVICE ? &b->queue_driver : &b->queue_device;
}

/* Registers of queues other than 0: "queue_size ... 0 if the queue is
 * unavailable"; the rest reads 0 (the vector NO_VECTOR). */
static uint64_t queue_read(struct vblk *b, unsigned off, unsigned width)
{
	if (b->queue_select != 0)
		return off == QUEUE_MSIX_VECTOR ? VBLK_NO_VECTOR : 0;
	switch (off) {
	case QUEUE_SIZE: return b->queue_size;
	case QUEUE_MSIX_VECTOR: return b->queue_msix_vector;
	case QUEUE_ENABLE: return b->queue_enable;
	case QUEUE_NOTIFY_OFF: return 0;
	}
	uint64_t v = *queue_address(b, off);
	if (width == 8)
		return v;
	return (off & 4) ? v >> 32 : (uint32_t)v;
}

uint64_t vblk_common_read(struct vblk *b, unsigned off, unsigned width)
{
	if (!access_ok(off, width)) {
		b->stats.bad_accesses++;
		return 0;
	}
	switch (off) {
	case DEVICE_FEATURE_SELECT: return b->device_feature_select;
	case DEVICE_FEATURE: return half(vblk_offered_features(b), b->device_feature_select);
	case DRIVER_FEATURE_SELECT: return b->driver_feature_select;
	case DRIVER_FEATURE: return half(b->driver_features, b->driver_feature_select);
	case MSIX_CONFIG: return b->msix_config;
	case NUM_QUEUES: return NUM_QUEUES_VALUE;
	case DEVICE_STATUS: return b->status;
	case CONFIG_GENERATION: return b->config_generation;
	case QUEUE_SELECT: return b->queue_select;
	default: return queue_read(b, off, width);
	}
}

/* 2.2.2 and 3.1.1: features are fixed once FEATURES_OK is set; before, the
 * driver may write anything and the check comes with FEATURES_OK. */
static void write_driver_features(struct vblk *b, uint32_t value)
{
	unsigned shift = b->driver_feature_select == 0 ? 0 : 32;

	if ((b->status & VBLK_S_FEATURES_OK) || b->driver_feature_select > 1) {
		b->stats.bad_accesses++;
		return;
	}
	b->driver_features = (b->driver_features & ~(0xffffffffull << shift)) |
			     (uint64_t)value << shift;
}

/* 2.1 and 4.1.4.3: 0 resets; FEATURES_OK sticks only for acceptable
 * features (a legacy driver that did not take VERSION_1 reads it back
 * clear); DEVICE_NEEDS_RESET is the device's and stays until a reset.
 * Bits the specification does not define are not kept. */
static void write_status(struct vblk *b, uint8_t value)
{
	if (value == 0) {
		vblk_reset(b);
		return;
	}
	uint8_t next = (value & VBLK_STATUS_KNOWN & ~VBLK_S_NEEDS_RESET) |
		       (b->status & VBLK_S_NEEDS_RESET);
	if ((next & VBLK_S_FEATURES_OK) && !(b->status & VBLK_S_FEATURES_OK) &&
	    !vblk_features_acceptable(b, b->driver_features))
		next &= (uint8_t)~VBLK_S_FEATURES_OK;
	b->status = next;
}

static bool power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* 2.7.2: descriptor table 16-byte, driver area 2-byte, device area
 * 4-byte aligned. */
static bool queue_aligned(const struct vblk *b)
{
	return !(b->queue_desc & 15) && !(b->queue_driver & 1) && !(b->queue_device & 3);
}

/* 4.1.4.3.2: the driver sets the queue up, then enables it; it never
 * writes 0 to queue_enable. An enabled queue keeps its setup (writes are
 * ignored), and one that cannot be used is not enabled. */
static void queue_write(struct vblk *b, unsigned off, unsigned width, uint64_t value)
{
	if (b->queue_select != 0 || off == QUEUE_NOTIFY_OFF || off == QUEUE_MSIX_VECTOR) {
		b->stats.bad_accesses += off != QUEUE_MSIX_VECTOR; /* no MSI-X: NO_VECTOR stays */
		return;
	}
	if (b->queue_enable) {
		b->stats.bad_accesses++;
		return;
	}
	if (off == QUEUE_SIZE) {
		if (power_of_two((uint32_t)value) && value <= VBLK_QUEUE_MAX)
			b->queue_size = (uint16_t)value;
		else
			b->stats.bad_accesses++;
	} else if (off == QUEUE_ENABLE) {
		if (value == 1 && queue_aligned(b))
			b->queue_enable = true;
		else
			b->stats.bad_accesses++;
	} else {
		uint64_t *a = queue_address(b, off);
		if (width == 8)
			*a = value;
		else if (off & 4)
			*a = (*a & 0xffffffffull) | value << 32;
		else
			*a = (*a & ~0xffffffffull) | (uint32_t)value;
	}
}

void vblk_common_write(struct vblk *b, unsigned off, unsigned width, uint64_t value)
{
	if (!access_ok(off, width)) {
		b->stats.bad_accesses++;
		return;
	}
	switch (off) {
	case DEVICE_FEATURE_SELECT: b->device_feature_select = (uint32_t)value; break;
	case DRIVER_FEATURE_SELECT: b->driver_feature_select = (uint32_t)value; break;
	case DRIVER_FEATURE: write_driver_features(b, (uint32_t)value); break;
	case DEVICE_STATUS: write_status(b, (uint8_t)value); break;
	case QUEUE_SELECT: b->queue_select = (uint16_t)value; break;
	case MSIX_CONFIG: break; /* no MSI-X: reads NO_VECTOR (4.1.5.1.2) */
	case DEVICE_FEATURE: case NUM_QUEUES: case CONFIG_GENERATION:
		b->stats.bad_accesses++; /* read-only */
		break;
	default: queue_write(b, off, width, value); break;
	}
}
