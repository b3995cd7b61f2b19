/* The NIC drivers' probe interface (drivers/net only). */
#ifndef DRIVERS_NET_NIC_DRIVERS_H
#define DRIVERS_NET_NIC_DRIVERS_H

#include <stdint.h>

struct nic;
struct pci_device;

struct nic_pci_id {
	uint16_t vendor, device;
	const char *model;
};

struct nic_driver {
	const char *name;
	const struct nic_pci_id *ids; /* ends with vendor 0 */
	/* Resets the device, reads its MAC and registers it (not started). */
	struct nic *(*probe)(struct pci_device *pci, const char *model);
};

extern const struct nic_driver virtio_net_driver;
extern const struct nic_driver e1000_driver;

/* The model name if the driver handles this function, else NULL. */
const char *nic_driver_match(const struct nic_driver *drv, const struct pci_device *pci);

#endif
