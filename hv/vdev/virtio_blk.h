/* A virtio-blk PCI device (virtio 1.x, "modern" PCI transport, virtio spec
 * 4.1 and 5.2) for a guest: PCI function 1af4:1042, its capabilities and
 * registers in one 64-bit memory BAR, one request queue, INTx through the
 * interrupt line the VM wires (an IOAPIC pin), level-triggered as the spec
 * says for the ISR.
 *
 * Requests are carried out when the guest notifies, through the backend
 * the VM hands in (a datastore disk). Nothing from the guest is trusted: a
 * descriptor chain that is malformed (loops, indexes or lengths out of
 * range, buffers outside guest RAM, wrong directions) or a request outside
 * the disk gets VIRTIO_BLK_S_IOERR/UNSUPP for that request, counted; a
 * queue the device cannot parse at all (avail index jumping by more than
 * the queue size) sets DEVICE_NEEDS_RESET, as 2.1.2 allows.
 *
 * Guest memory comes through struct vblk_mem, never as a pointer the
 * model computes itself. */
#ifndef HV_VDEV_VIRTIO_BLK_H
#define HV_VDEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"
#include "hv/vdev/vpci_config.h"

#define VBLK_BAR 4                 /* 64-bit memory BAR, as QEMU's virtio devices */
#define VBLK_BAR_SIZE 0x4000ull
#define VBLK_QUEUE_MAX 256
#define VBLK_SEG_MAX 126           /* data descriptors per request */

/* Guest memory as the VM gives it. */
struct vblk_mem {
	/* The host address of guest-physical 'gpa' and how many bytes from
	 * there (up to 'len') are contiguous guest RAM; 0 when gpa is not RAM.
	 * 'write': the device will write there (the VM logs the pages dirty). */
	size_t (*map)(void *ctx, uint64_t gpa, size_t len, bool write, void **host);
	void *ctx;
};

struct vblk_iov {
	void *data;
	size_t len;
};

/* The disk behind the device. Sector numbers are in 512-byte units; the
 * iov lengths are multiples of 512. Returns 0, or -1 for an I/O error the
 * guest sees as VIRTIO_BLK_S_IOERR. */
struct vblk_backend {
	int (*read)(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n);
	int (*write)(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n);
	int (*flush)(void *ctx);
	void *ctx;
};

struct vblk_stats {
	uint64_t reads, writes, flushes, get_ids, read_bytes, write_bytes;
	uint64_t io_errors;      /* the backend failed */
	uint64_t bad_requests;   /* out of range, malformed chains, unsupported types */
	uint64_t bad_accesses;   /* register accesses of a wrong width or offset */
	uint64_t notifies, interrupts;
};

struct vblk {
	struct vpci_config pci;
	/* Device configuration and transport registers (guest state). */
	uint64_t capacity;         /* sectors */
	bool read_only;
	char serial[20];           /* VIRTIO_BLK_T_GET_ID, NUL-padded */
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t queue_select;
	uint16_t queue_size;       /* the driver may lower it */
	bool queue_enable;
	uint16_t msix_config, queue_msix_vector; /* NO_VECTOR: no MSI-X offered */
	uint64_t queue_desc, queue_driver, queue_device;
	uint16_t last_avail;       /* next available entry to take */
	uint16_t used_idx;         /* the used index the device last wrote */
	bool irq_level;
	/* Wiring (not guest state). */
	struct vblk_mem mem;
	struct vblk_backend backend;
	struct irq_line irq;
	struct vblk_stats stats;
};

/* Power-on state; 'pin' is the INTx pin (1 = INTA#) the PCI header shows,
 * 'irq' the line it drives. @pre capacity > 0 */
void vblk_init(struct vblk *b, uint64_t capacity_sectors, bool read_only, const char *serial,
	       const struct vblk_mem *mem, const struct vblk_backend *backend,
	       const struct irq_line *irq);
/* The BAR's offset decoding: 'offset' into the BAR, width 1, 2, 4 or 8. */
uint64_t vblk_bar_read(struct vblk *b, uint64_t offset, unsigned width);
void vblk_bar_write(struct vblk *b, uint64_t offset, unsigned width, uint64_t value);
/* The PCI function's hooks for vpci_register (BAR moves need nothing). */
extern const struct vpci_function_ops vblk_pci_ops;

/* Migration (layout in docs/device-state.md). Returns the size written, 0
 * when buf is too small; load returns 0 or -1 with the reason and nothing
 * changed. */
#define VBLK_STATE_SIZE 96
size_t vblk_save(const struct vblk *b, uint8_t *buf, size_t size);
int vblk_load(struct vblk *b, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
