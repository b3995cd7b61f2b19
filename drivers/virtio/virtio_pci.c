/* virtio 1.x over PCI; see virtio_pci.h. */
#include "drivers/virtio/virtio_pci.h"

#include "drivers/pci/pci.h"
#include "hv/core/time.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration structure offsets. */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_DEVICE_STATUS 0x14
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_NOTIFY_OFF 0x1e
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30
#define CC_BYTES 0x38 /* through queue_device: the registers used here */
#define VIRTIO_NO_VECTOR 0xffff

#define cc8(v, off) (*(volatile uint8_t *)((v)->common + (off)))
#define cc16(v, off) (*(volatile uint16_t *)((v)->common + (off)))
#define cc32(v, off) (*(volatile uint32_t *)((v)->common + (off)))

static void cc64(struct virtio_pci *v, unsigned off, uint64_t val)
{
	cc32(v, off) = (uint32_t)val;
	cc32(v, off + 4) = (uint32_t)(val >> 32);
}

/* The structure a capability locates, if it lies in a memory BAR and has
 * at least min_len bytes: the device says how long it is, and the driver
 * then uses registers at fixed offsets (a 4-byte common structure at a
 * BAR's end had the reset write past the BAR). */
static volatile uint8_t *cap_window(struct pci_device *pci, uint8_t cap, uint32_t min_len,
				    uint32_t *extra, uint32_t *len)
{
	uint8_t bar = pci_read8(pci, cap + 4);
	uint32_t offset = pci_read32(pci, cap + 8);
	uint32_t length = pci_read32(pci, cap + 12);

	if (len)
		*len = length;
	if (bar >= PCI_BARS || pci->bar[bar].io || length < min_len ||
	    offset + (uint64_t)length > pci->bar[bar].size)
		return NULL;
	volatile uint8_t *base = pci_map_bar(pci, bar);
	if (extra)
		*extra = pci_read32(pci, cap + 16);
	return base ? base + offset : NULL;
}

void virtio_pci_reset(struct virtio_pci *v)
{
	cc8(v, CC_DEVICE_STATUS) = 0;
	/* The device acknowledges the reset by reading back 0. */
	uint64_t deadline = time_ns() + 100 * NS_PER_MS;
	while (cc8(v, CC_DEVICE_STATUS) && time_ns() < deadline)
		__asm__ volatile("pause");
}

bool virtio_pci_open(struct virtio_pci *v, struct pci_device *pci, const char **why)
{
	*v = (struct virtio_pci){ .pci = pci };
	/* pci_find_cap bounds one search, not a walk by its answers: a list
	 * looping back to a vendor capability would hang here. 48 capabilities
	 * fill the 192 bytes of the list area, so a walk visiting more loops. */
	int guard = 0;
	for (uint8_t cap = pci_find_cap(pci, PCI_CAP_ID_VENDOR, 0); cap && guard < 48;
	     cap = pci_find_cap(pci, PCI_CAP_ID_VENDOR, cap), guard++) {
		switch (pci_read8(pci, cap + 3)) {
		case CAP_COMMON:
			if (!v->common)
				v->common = cap_window(pci, cap, CC_BYTES, NULL, NULL);
			break;
		case CAP_NOTIFY:
			if (!v->notify)
				v->notify = cap_window(pci, cap, 0, &v->notify_multiplier,
						       &v->notify_len);
			break;
		case CAP_ISR:
			if (!v->isr)
				v->isr = cap_window(pci, cap, 1, NULL, NULL);
			break;
		case CAP_DEVICE:
			if (!v->device_cfg)
				v->device_cfg = cap_window(pci, cap, 0, NULL, &v->device_cfg_len);
			break;
		}
	}
	if (!v->common || !v->notify || !v->device_cfg) {
		*why = "no virtio 1.0 (modern) interface";
		return false;
	}
	pci_enable(pci);
	virtio_pci_reset(v);
	return true;
}

bool virtio_pci_negotiate(struct virtio_pci *v, uint64_t wanted, const char **why)
{
	cc8(v, CC_DEVICE_STATUS) = VIRTIO_STATUS_ACK;
	cc8(v, CC_DEVICE_STATUS) = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER;
	cc32(v, CC_DEVICE_FEATURE_SELECT) = 0;
	uint64_t offered = cc32(v, CC_DEVICE_FEATURE);
	cc32(v, CC_DEVICE_FEATURE_SELECT) = 1;
	offered |= (uint64_t)cc32(v, CC_DEVICE_FEATURE) << 32;

	v->features = offered & (wanted | VIRTIO_F_VERSION_1);
	if (!(v->features & VIRTIO_F_VERSION_1)) {
		*why = "device does not offer VIRTIO_F_VERSION_1";
		cc8(v, CC_DEVICE_STATUS) = VIRTIO_STATUS_FAILED;
		return false;
	}
	cc32(v, CC_DRIVER_FEATURE_SELECT) = 0;
	cc32(v, CC_DRIVER_FEATURE) = (uint32_t)v->features;
	cc32(v, CC_DRIVER_FEATURE_SELECT) = 1;
	cc32(v, CC_DRIVER_FEATURE) = (uint32_t)(v->features >> 32);
	cc8(v, CC_DEVICE_STATUS) = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK;
	if (!(cc8(v, CC_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		*why = "device refused the feature set";
		cc8(v, CC_DEVICE_STATUS) = VIRTIO_STATUS_FAILED;
		return false;
	}
	return true;
}

static void *alloc_ring(size_t bytes)
{
	uint64_t pa = pages_alloc((bytes + PAGE_SIZE - 1) / PAGE_SIZE, 1);
	return pa ? phys_to_virt(pa) : NULL;
}

volatile uint16_t *virtio_pci_setup_queue(struct virtio_pci *v, uint16_t index,
					  uint16_t max_size, struct virtqueue *vq)
{
	cc16(v, CC_QUEUE_SELECT) = index;
	uint16_t size = cc16(v, CC_QUEUE_SIZE);
	if (!size)
		return NULL;
	if (max_size > VQ_MAX_SIZE)
		max_size = VQ_MAX_SIZE; /* the driver-private chain arrays' size */
	/* Split rings are indexed by masking (vq_init's @pre), and virtio 1.0
	 * 2.4 has queue sizes be powers of two: a device offering another
	 * size gets the largest power of two below it (4.1.4.3: the driver may
	 * reduce queue_size). */
	while (size & (size - 1))
		size &= (uint16_t)(size - 1);
	while (size > max_size)
		size /= 2;
	void *desc = alloc_ring(vq_desc_bytes(size));
	void *avail = alloc_ring(vq_avail_bytes(size));
	void *used = alloc_ring(vq_used_bytes(size));
	void **cookies = kzalloc(size * sizeof(void *));
	if (!desc || !avail || !used || !cookies)
		return NULL; /* boot-time allocation; the pages stay with the device */
	vq_init(vq, size, desc, avail, used, cookies);

	cc16(v, CC_QUEUE_SIZE) = size;
	cc16(v, CC_QUEUE_MSIX_VECTOR) = VIRTIO_NO_VECTOR;
	cc64(v, CC_QUEUE_DESC, virt_to_phys(desc));
	cc64(v, CC_QUEUE_DRIVER, virt_to_phys(avail));
	cc64(v, CC_QUEUE_DEVICE, virt_to_phys(used));
	uint16_t notify_off = cc16(v, CC_QUEUE_NOTIFY_OFF);
	if (!vq_notify_in_window(v->notify_len, notify_off, v->notify_multiplier))
		return NULL; /* the device points outside its own structure */
	cc16(v, CC_QUEUE_ENABLE) = 1;
	return (volatile uint16_t *)(v->notify + (uint64_t)notify_off * v->notify_multiplier);
}

void virtio_pci_driver_ok(struct virtio_pci *v)
{
	cc8(v, CC_DEVICE_STATUS) = cc8(v, CC_DEVICE_STATUS) | VIRTIO_STATUS_DRIVER_OK;
}
