/* A VM's disks: datastore disks (hv/store) shown to the guest as virtio-blk
 * PCI functions (hv/vdev/virtio_blk.c), one per disk, at slots 4, 5, ...
 * with their BAR placed and enabled as firmware would, INTA# routed to the
 * IOAPIC pin the DSDT's _PRT names. */
#ifndef HV_VM_VM_DISK_H
#define HV_VM_VM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/store/store.h"
#include "hv/vdev/virtio_blk.h"

struct vm;

/* Where a disk's writes are mirrored to while a migration forwards them
 * (instead of logging dirty blocks): told of each completed write, and
 * asked before each request whether the device may go on. */
struct vm_disk_mirror {
	void (*wrote)(void *ctx, unsigned disk, uint64_t offset, uint64_t len);
	bool (*ready)(void *ctx, unsigned disk);
	void *ctx;
};

#define VM_MAX_DISKS 4
#define VM_DISK_FIRST_SLOT 4
#define VM_DISK_PORT_BASE 0xc000 /* notify BARs, 0x40 ports apart, in the DSDT's I/O window */
#define VM_DISK_PORT_STRIDE 0x40
#define VM_DISK_SPEC_MAX (STORE_NAME_MAX + 4) /* "NAME[,ro]" */

struct vm_disk {
	char name[STORE_NAME_MAX];
	bool read_only;
	struct store_disk *disk;
	struct vblk dev;
	struct vm *vm;
	unsigned slot;
	unsigned index;        /* in vm->disks */
	const struct vm_disk_mirror *mirror; /* NULL: not mirrored */
	uint64_t *dirty;       /* blocks written while logging (vm_disk_dirty.c) */
	uint64_t dirty_blocks; /* bits in it: the disk's blocks */
};

/* Opens the disks 'specs' name ("NAME" or "NAME,ro") in the open
 * datastore and attaches them. On failure nothing stays open and err says
 * which disk and why. @pre the VM's platform is initialised */
int vm_disks_attach(struct vm *vm, const char *const *specs, size_t n, char *err, size_t errlen);
/* The devices at power-on state, registered on the VM's PCI bus again
 * (after platform_init on create and reset). */
void vm_disks_reset(struct vm *vm);
/* Flushes and closes every disk (VM destroyed). */
void vm_disks_detach(struct vm *vm);
/* Whether a VM uses the disk, for `disk info` and deletes. */
bool vm_disk_in_use_by(const struct vm *vm, const char *disk);

/* The dirty-block log (one bit per datastore block), for migration:
 * start allocates it (0, or -1 when memory is short), harvest ORs the
 * blocks written since the last harvest into 'into' (dirty_blocks bits),
 * clears them and returns how many there were. */
int vm_disk_log_start(struct vm_disk *d);
void vm_disk_log_stop(struct vm_disk *d);
void vm_disk_log_write(struct vm_disk *d, uint64_t offset, uint64_t len);
uint64_t vm_disk_log_harvest(struct vm_disk *d, uint64_t *into);
/* Swaps the datastore handle under an attached device (a migrated disk
 * that was written as a fragment continues as an ordinary disk). */
void vm_disk_rebind(struct vm_disk *d, struct store_disk *disk);
/* Attaches already open handles (an incoming VM's disks, written by the
 * stream): the VM takes them over. @pre n <= VM_MAX_DISKS, no disks yet */
void vm_disks_adopt(struct vm *vm, const char (*names)[STORE_NAME_MAX], const bool *read_only,
		    struct store_disk *const *handles, unsigned n);

/* Port I/O to the devices' notify BARs: true when a device decodes it. */
bool vm_disk_port_read(struct vm *vm, uint16_t port, unsigned size, uint32_t *value);
bool vm_disk_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);

/* MMIO to the devices' BARs. */
bool vm_disk_mmio_claims(const struct vm *vm, uint64_t gpa);
bool vm_disk_mmio_read(struct vm *vm, uint64_t gpa, unsigned size, uint64_t *value);
bool vm_disk_mmio_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t value);

#endif
