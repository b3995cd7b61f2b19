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
#define VBLK_SIZE_MAX (64u * 1024) /* bytes per data descriptor (size_max) */
/* A request carries at most seg_max * size_max bytes; more is refused
 * (IOERR), so one request cannot keep the host busy for long. */
#define VBLK_REQUEST_MAX ((uint64_t)VBLK_SEG_MAX * VBLK_SIZE_MAX)
/* Work done per notify: requests and bytes; the rest waits for the VM's
 * next turn (vblk_poll), so one guest cannot hold the only host CPU. */
#define VBLK_NOTIFY_REQUESTS 32
#define VBLK_NOTIFY_BYTES (16ull << 20)
#define VBLK_CHAIN_MAX (VBLK_SEG_MAX + 2) /* with the header and status descriptors */
#define VBLK_IOV_BATCH 128         /* host pieces per backend call */

/* The PCI function (virtio 1.2, 4.1.2.1): a non-transitional device, ID
 * 0x1040 + 2 (block), revision 1; its subsystem device ID 0x40 or higher
 * ("SHOULD", and OVMF's driver requires it), QEMU's 0x1100 here. */
#define VBLK_PCI_VENDOR 0x1af4
#define VBLK_PCI_DEVICE 0x1042
#define VBLK_PCI_SUBSYSTEM 0x1100
#define VBLK_PCI_CLASS 0x018000    /* mass storage, other */

/* The BAR's layout, which the vendor capabilities describe (4.1.4). */
#define VBLK_COMMON_OFFSET 0x0000
#define VBLK_COMMON_LENGTH 0x38    /* struct virtio_pci_common_cfg up to queue_device */
#define VBLK_ISR_OFFSET 0x1000
#define VBLK_ISR_LENGTH 1
#define VBLK_DEVICE_OFFSET 0x2000
#define VBLK_DEVICE_LENGTH 0x40    /* struct virtio_blk_config up to max_secure_erase_sectors */
#define VBLK_NOTIFY_OFFSET 0x3000  /* decoded, though the capability names the port */
#define VBLK_NOTIFY_LENGTH 4
#define VBLK_NOTIFY_MULTIPLIER 4   /* queue 0's queue_notify_off is 0 */
/* The notify capability points into I/O space (as QEMU's modern-pio-notify
 * does): an OUT exits with port and value decoded by the CPU, where an MMIO
 * write costs a nested page fault and an instruction decode, the dearer
 * exit under QEMU TCG (docs/benchmarks.md, "Disks"). BAR 0, 4 ports,
 * multiplier 0: every queue notifies at port 0 (4.1.4.4 allows it). */
#define VBLK_NOTIFY_BAR 0
/* Where the PCI configuration access capability (4.1.4.9) sits. */
#define VBLK_PCI_CFG_CAP 0x84
#define VBLK_NOTIFY_PORTS 4

/* Device status bits (2.1) and the features offered (5.2.3, 6). */
#define VBLK_S_ACKNOWLEDGE 0x01
#define VBLK_S_DRIVER 0x02
#define VBLK_S_DRIVER_OK 0x04
#define VBLK_S_FEATURES_OK 0x08
#define VBLK_S_NEEDS_RESET 0x40
#define VBLK_S_FAILED 0x80
#define VBLK_F_SIZE_MAX (1ull << 1)
#define VBLK_F_SEG_MAX (1ull << 2)
#define VBLK_F_RO (1ull << 5)
#define VBLK_F_BLK_SIZE (1ull << 6)
#define VBLK_F_FLUSH (1ull << 9)
#define VBLK_F_VERSION_1 (1ull << 32)
#define VBLK_ISR_QUEUE 0x01
#define VBLK_ISR_CONFIG 0x02

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
	/* NULL, or whether the backend takes another request now; when it
	 * does not, the request stays in the ring (vblk_pending) until it
	 * does: a backend whose writes are mirrored elsewhere holds the
	 * guest to that pace. */
	bool (*ready)(void *ctx);
	void *ctx;
};

struct vblk_stats {
	uint64_t reads, writes, flushes, get_ids, read_bytes, write_bytes;
	uint64_t io_errors;      /* the backend failed */
	uint64_t bad_requests;   /* out of range, malformed chains, unsupported types */
	uint64_t bad_accesses;   /* register accesses of a wrong width or offset */
	uint64_t notifies, interrupts;
	uint64_t needs_reset;    /* times the queue was found unusable (DEVICE_NEEDS_RESET) */
};

/* One descriptor of the chain being handled (a copy: the guest cannot
 * change it under the device). */
struct vblk_desc {
	uint64_t addr;
	uint32_t len;
	bool write;
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
	bool irq_level;            /* the line as driven: ISR not 0 and INTx not disabled */
	/* Wiring (not guest state). */
	struct vblk_mem mem;
	struct vblk_backend backend;
	struct irq_line irq;
	struct vblk_stats stats;
	/* Scratch for the request being handled (not guest state). */
	struct vblk_desc chain[VBLK_CHAIN_MAX];
	struct vblk_iov iov[VBLK_IOV_BATCH];
};

/* Power-on state; 'pin' is the INTx pin (1 = INTA#) the PCI header shows,
 * 'irq' the line it drives. @pre capacity > 0 */
void vblk_init(struct vblk *b, uint64_t capacity_sectors, bool read_only, const char *serial,
	       const struct vblk_mem *mem, const struct vblk_backend *backend,
	       const struct irq_line *irq);
/* The BAR's offset decoding: 'offset' into the BAR, width 1, 2, 4 or 8. */
uint64_t vblk_bar_read(struct vblk *b, uint64_t offset, unsigned width);
void vblk_bar_write(struct vblk *b, uint64_t offset, unsigned width, uint64_t value);
/* Requests the guest made available and the device has not taken yet
 * (a notify's budget ran out). */
bool vblk_pending(struct vblk *b);
/* Carries on with them, within one notify's budget. */
void vblk_poll(struct vblk *b);
/* The notify BAR (I/O space): 'offset' into it, width 1, 2 or 4. Reads
 * return 0 (the area is write-only). */
uint32_t vblk_io_read(struct vblk *b, unsigned offset, unsigned width);
void vblk_io_write(struct vblk *b, unsigned offset, unsigned width, uint32_t value);
/* The PCI function's hooks for vpci_register (BAR moves need nothing):
 * the status register's interrupt bit is computed on read, and a command
 * write re-drives the line (Interrupt Disable). ctx is the struct vblk. */
extern const struct vpci_function_ops vblk_pci_ops;
/* Drives the line from the ISR and the command register's Interrupt
 * Disable: for the caller after loading the PCI bus's state (vpci_load
 * calls no hooks). */
void vblk_sync_irq(struct vblk *b);

/* Migration (layout in docs/device-state.md). Returns the size written, 0
 * when buf is too small; load returns 0 or -1 with the reason and nothing
 * changed. The configuration space travels with the PCI bus (vpci_save);
 * load re-drives the line from the loaded ISR and the command register as
 * it is then, so load the bus first or call vblk_sync_irq() after it.
 * @pre for load: the destination was set up with the same disk (capacity,
 * read-only, serial: all checked) */
#define VBLK_STATE_SIZE 96
size_t vblk_save(const struct vblk *b, uint8_t *buf, size_t size);
int vblk_load(struct vblk *b, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
