/* The block drivers' probe interface (drivers/block only). */
#ifndef DRIVERS_BLOCK_BLK_DRIVERS_H
#define DRIVERS_BLOCK_BLK_DRIVERS_H

#include <stdbool.h>

struct pci_device;

struct blk_driver {
	const char *name;
	/* Whether this driver handles the PCI function. */
	bool (*matches)(const struct pci_device *pci);
	/* Resets and sets up the device and registers its block devices (an
	 * NVMe controller has one per active namespace); returns how many,
	 * 0 (with a warning logged) when it could not take the device. */
	unsigned (*probe)(struct pci_device *pci);
};

extern const struct blk_driver virtio_blk_driver;
extern const struct blk_driver nvme_driver;

/* The RAM disk the `ramdisk` setting asks for (ramdisk_boot.c); 1 when
 * one was registered. */
unsigned ramdisk_boot_create(void);

#endif
