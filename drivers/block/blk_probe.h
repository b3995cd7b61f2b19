/* Boot-time discovery of the host's block devices. */
#ifndef DRIVERS_BLOCK_BLK_PROBE_H
#define DRIVERS_BLOCK_BLK_PROBE_H

#include <stddef.h>

/* Takes every PCI function a block driver supports (virtio-blk, NVMe),
 * registers its devices and logs one line each, then creates the RAM disk
 * when the `ramdisk` setting asks for one, and registers a main-loop
 * poller for requests in flight. Returns the devices registered.
 * @pre pci_init ran; memory is up */
size_t blk_probe_all(void);

#endif
