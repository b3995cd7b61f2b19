/* The virtio 1.x PCI transport ("modern" interface, virtio spec 4.1):
 * capabilities locate the common, notify, ISR and device configuration
 * structures in the BARs; feature negotiation; queue setup. */
#ifndef DRIVERS_VIRTIO_VIRTIO_PCI_H
#define DRIVERS_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/virtqueue.h"

#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 0x80

struct pci_device;

struct virtio_pci {
	struct pci_device *pci;
	volatile uint8_t *common;
	volatile uint8_t *notify;
	uint32_t notify_multiplier;
	uint32_t notify_len;    /* bytes of the notify structure */
	volatile uint8_t *isr;
	volatile uint8_t *device_cfg;
	uint32_t device_cfg_len; /* bytes of the device configuration */
	uint64_t features; /* negotiated */
};

/* Finds the structures and resets the device. Returns false with a reason
 * if the device has no modern interface. */
bool virtio_pci_open(struct virtio_pci *v, struct pci_device *pci, const char **why);

/* ACK + DRIVER, then accepts wanted & offered; VERSION_1 is required.
 * Returns false (device marked FAILED) if the device refuses. */
bool virtio_pci_negotiate(struct virtio_pci *v, uint64_t wanted, const char **why);

/* Allocates rings of up to max_size entries for queue 'index', tells the
 * device and enables it. Returns the notify address or NULL. */
volatile uint16_t *virtio_pci_setup_queue(struct virtio_pci *v, uint16_t index,
					  uint16_t max_size, struct virtqueue *vq);

void virtio_pci_driver_ok(struct virtio_pci *v);
void virtio_pci_reset(struct virtio_pci *v);

#endif
