/* The virtio-blk transport and queue state for migration
 * (docs/device-state.md). The configuration space travels with the PCI
 * bus; the queue's rings travel with guest memory. Requests complete before
 * a notify returns, so nothing is in flight to carry. */
#include "hv/lib/string.h"
#include "hv/vdev/vdev_state.h"
#include "hv/vdev/virtio_blk_priv.h"

#define STATE_VERSION 1
#define RESERVED_TAIL 8

_Static_assert(VBLK_STATE_SIZE == 4 + 4 + 4 + 8 + 2 + 2 + 1 + 1 + 2 + 2 + 2 + 2 + 2 + 3 * 8 + 8 +
			   20 + RESERVED_TAIL,
	       "layout in docs/device-state.md");

size_t vblk_save(const struct vblk *b, uint8_t *buf, size_t size)
{
	if (size < VBLK_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VBLK_STATE_SIZE);
	wput8(&w, STATE_VERSION);
	wput8(&w, b->status);
	wput8(&w, b->isr);
	wput8(&w, b->config_generation);
	wput32(&w, b->device_feature_select);
	wput32(&w, b->driver_feature_select);
	wput64(&w, b->driver_features);
	wput16(&w, b->queue_select);
	wput16(&w, b->queue_size);
	wput8(&w, b->queue_enable);
	wput8(&w, b->read_only);
	wput16(&w, b->msix_config);
	wput16(&w, b->queue_msix_vector);
	wput16(&w, b->last_avail);
	wput16(&w, b->used_idx);
	wput16(&w, 0);
	wput64(&w, b->queue_desc);
	wput64(&w, b->queue_driver);
	wput64(&w, b->queue_device);
	wput64(&w, b->capacity);
	for (size_t i = 0; i < sizeof(b->serial); i++)
		wput8(&w, (uint8_t)b->serial[i]);
	wput64(&w, 0);
	return VBLK_STATE_SIZE;
}

/* The blob's fields, decoded before anything is checked or changed. */
struct saved {
	uint8_t version, status, isr, config_generation;
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t queue_select, queue_size, msix_config, queue_msix_vector, last_avail, used_idx;
	bool queue_enable, read_only, reserved_zero;
	uint64_t queue_desc, queue_driver, queue_device, capacity;
	char serial[20];
};

static void decode(struct vdev_state_reader *r, struct saved *s)
{
	s->version = wget8(&r->c);
	s->status = wget8(&r->c);
	s->isr = wget8(&r->c);
	s->config_generation = wget8(&r->c);
	s->device_feature_select = wget32(&r->c);
	s->driver_feature_select = wget32(&r->c);
	s->driver_features = wget64(&r->c);
	s->queue_select = wget16(&r->c);
	s->queue_size = wget16(&r->c);
	s->queue_enable = vdev_state_bool(r, "queue_enable");
	s->read_only = vdev_state_bool(r, "read_only");
	s->msix_config = wget16(&r->c);
	s->queue_msix_vector = wget16(&r->c);
	s->last_avail = wget16(&r->c);
	s->used_idx = wget16(&r->c);
	s->reserved_zero = wget16(&r->c) == 0;
	s->queue_desc = wget64(&r->c);
	s->queue_driver = wget64(&r->c);
	s->queue_device = wget64(&r->c);
	s->capacity = wget64(&r->c);
	for (size_t i = 0; i < sizeof(s->serial); i++)
		s->serial[i] = (char)wget8(&r->c);
	s->reserved_zero = wget64(&r->c) == 0 && s->reserved_zero;
}

/* The same disk as this device's, and the fields the device never changes. */
static void check_identity(struct vdev_state_reader *r, const struct vblk *b, const struct saved *s)
{
	vdev_state_check(r, s->version == STATE_VERSION, "version %u, expected %u", s->version,
			 STATE_VERSION);
	vdev_state_check(r, s->reserved_zero, "reserved bytes not 0");
	vdev_state_check(r, s->capacity == b->capacity && s->read_only == b->read_only,
			 "another disk: capacity %llu ro %u, here %llu ro %u",
			 (unsigned long long)s->capacity, s->read_only,
			 (unsigned long long)b->capacity, b->read_only);
	vdev_state_check(r, !memcmp(s->serial, b->serial, sizeof(s->serial)),
			 "another disk: the serial differs");
	vdev_state_check(r, s->config_generation == b->config_generation,
			 "config_generation %u, the device has %u", s->config_generation,
			 b->config_generation);
}

/* What the registers can reach: see docs/device-state.md. */
static void check_transport(struct vdev_state_reader *r, const struct vblk *b,
			    const struct saved *s)
{
	vdev_state_check(r, !(s->status & ~VBLK_STATUS_KNOWN), "status 0x%02x: unknown bits",
			 s->status);
	vdev_state_check(r, !(s->status & VBLK_S_FEATURES_OK) ||
				    vblk_features_acceptable(b, s->driver_features),
			 "FEATURES_OK with driver features 0x%llx",
			 (unsigned long long)s->driver_features);
	vdev_state_check(r, !(s->isr & ~(VBLK_ISR_QUEUE | VBLK_ISR_CONFIG)),
			 "isr 0x%02x: only bits 0 and 1", s->isr);
	vdev_state_check(r, s->msix_config == VBLK_NO_VECTOR &&
				    s->queue_msix_vector == VBLK_NO_VECTOR,
			 "MSI-X vectors 0x%04x/0x%04x without MSI-X", s->msix_config,
			 s->queue_msix_vector);
}

/* 2.7: a power-of-two size; an enabled queue's areas aligned (descriptor
 * table 16, driver area 2, device area 4 bytes); the indexes move only
 * while enabled, and each chain taken is returned before the next. */
static void check_queue(struct vdev_state_reader *r, const struct saved *s)
{
	uint16_t size = s->queue_size;

	vdev_state_check(r, size && !(size & (size - 1)) && size <= VBLK_QUEUE_MAX,
			 "queue_size %u: not a power of two up to %u", size, VBLK_QUEUE_MAX);
	vdev_state_check(r, !s->queue_enable || (!(s->queue_desc & 15) &&
						  !(s->queue_driver & 1) && !(s->queue_device & 3)),
			 "enabled queue misaligned: desc 0x%llx driver 0x%llx device 0x%llx",
			 (unsigned long long)s->queue_desc, (unsigned long long)s->queue_driver,
			 (unsigned long long)s->queue_device);
	vdev_state_check(r, s->last_avail == s->used_idx,
			 "last_avail %u differs from used_idx %u", s->last_avail, s->used_idx);
	vdev_state_check(r, s->queue_enable || s->used_idx == 0,
			 "used_idx %u on a queue never enabled", s->used_idx);
}

static void apply(struct vblk *b, const struct saved *s)
{
	b->status = s->status;
	b->isr = s->isr;
	b->device_feature_select = s->device_feature_select;
	b->driver_feature_select = s->driver_feature_select;
	b->driver_features = s->driver_features;
	b->queue_select = s->queue_select;
	b->queue_size = s->queue_size;
	b->queue_enable = s->queue_enable;
	b->msix_config = s->msix_config;
	b->queue_msix_vector = s->queue_msix_vector;
	b->last_avail = s->last_avail;
	b->used_idx = s->used_idx;
	b->queue_desc = s->queue_desc;
	b->queue_driver = s->queue_driver;
	b->queue_device = s->queue_device;
}

int vblk_load(struct vblk *b, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct saved s;

	if (!vdev_state_begin(&r, "vblk", buf, len, VBLK_STATE_SIZE, err, errlen))
		return -1;
	decode(&r, &s);
	if (vdev_state_end(&r))
		return -1;
	check_identity(&r, b, &s);
	check_transport(&r, b, &s);
	check_queue(&r, &s);
	if (vdev_state_end(&r))
		return -1;
	apply(b, &s);
	/* Re-drive the line from the loaded ISR, whatever it was before. */
	b->irq_level = b->isr != 0 && !(vpci_config_read(&b->pci, PCI_COMMAND, 2) &
					PCI_COMMAND_INTX_DISABLE);
	irq_set(&b->irq, b->irq_level);
	return 0;
}
