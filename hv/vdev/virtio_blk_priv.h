/* What the virtio-blk model's files share (virtio_blk*.c); not an API. */
#ifndef HV_VDEV_VIRTIO_BLK_PRIV_H
#define HV_VDEV_VIRTIO_BLK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/virtio_blk.h"

#define VBLK_NO_VECTOR 0xffff      /* MSI-X vector registers without MSI-X (4.1.4.3) */
#define VBLK_STATUS_KNOWN (VBLK_S_ACKNOWLEDGE | VBLK_S_DRIVER | VBLK_S_DRIVER_OK | \
			   VBLK_S_FEATURES_OK | VBLK_S_NEEDS_RESET | VBLK_S_FAILED)

/* The features this device offers: VERSION_1, SEG_MAX, BLK_SIZE, FLUSH,
 * and RO for a read-only disk. */
uint64_t vblk_offered_features(const struct vblk *b);
/* True when the driver's features may go with FEATURES_OK (3.1.1): a
 * subset of the offer, VERSION_1 included (a legacy driver is refused). */
bool vblk_features_acceptable(const struct vblk *b, uint64_t features);

/* The power-on transport state (2.4: a write of 0 to device status):
 * status, features, selectors, queue, ISR; the line goes low. */
void vblk_reset(struct vblk *b);
/* Sets ISR bits and drives the line. */
void vblk_raise(struct vblk *b, uint8_t isr_bits);
/* The queue cannot be used: DEVICE_NEEDS_RESET and a configuration
 * interrupt (2.1.2); nothing more is processed until a reset. */
void vblk_set_needs_reset(struct vblk *b);

/* Common configuration registers (virtio_blk_common.c); 'off' is relative
 * to the structure's start. */
uint64_t vblk_common_read(struct vblk *b, unsigned off, unsigned width);
void vblk_common_write(struct vblk *b, unsigned off, unsigned width, uint64_t value);

/* Guest memory through struct vblk_mem: false when any byte is not RAM. */
bool vblk_guest_read(struct vblk *b, uint64_t gpa, void *buf, size_t len);
bool vblk_guest_write(struct vblk *b, uint64_t gpa, const void *buf, size_t len);

/* Takes every chain the driver made available and completes it
 * (virtio_blk_queue.c). */
void vblk_process_queue(struct vblk *b);
/* Carries out the request in b->chain[0..n) (virtio_blk_req.c); returns
 * the used length: bytes written into device-writable buffers, the status
 * byte included, or 0 when there was no status byte to write. */
uint32_t vblk_execute(struct vblk *b, unsigned n);

#endif
