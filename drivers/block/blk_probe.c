/* Finds the host's block devices at boot: every PCI function a block
 * driver takes, then the RAM disk if the settings ask for one; registers
 * the main-loop poller that completes their requests. */
#include "drivers/block/blk_drivers.h"
#include "drivers/block/blk_probe.h"
#include "drivers/block/blockdev.h"
#include "drivers/pci/pci.h"
#include "hv/core/log.h"
#include "hv/core/mainloop.h"

static const struct blk_driver *const drivers[] = { &virtio_blk_driver, &nvme_driver };

static void log_device(const struct blockdev *d, const struct pci_device *pci)
{
	uint64_t mib = d->blocks * d->block_size >> 20;

	if (pci)
		log_info("blk: %s: %s, %lu MiB (%lu x %u bytes)%s%s at %02x:%02x.%x", d->name,
			 d->model, (unsigned long)mib, (unsigned long)d->blocks, d->block_size,
			 d->read_only ? ", read-only" : "",
			 d->volatile_cache ? ", volatile cache" : "", pci->bus, pci->dev, pci->fn);
	else
		log_info("blk: %s: %s, %lu MiB (%lu x %u bytes)", d->name, d->model,
			 (unsigned long)mib, (unsigned long)d->blocks, d->block_size);
}

static void probe_function(struct pci_device *pci)
{
	for (size_t k = 0; k < sizeof(drivers) / sizeof(drivers[0]); k++) {
		if (!drivers[k]->matches(pci))
			continue;
		unsigned before = blk_count();
		if (!drivers[k]->probe(pci))
			continue; /* the driver said why */
		pci->driver = drivers[k]->name;
		for (unsigned i = before; i < blk_count(); i++)
			log_device(blk_get(i), pci);
		return;
	}
}

/* Completes requests submitted without waiting (those with a done
 * function) while the main loop runs; blk_io polls by itself. */
static bool poll_devices(void)
{
	bool pending = false;

	for (unsigned i = 0; i < blk_count(); i++)
		pending |= blk_get(i)->in_flight && !blk_get(i)->failed;
	return pending && blk_poll_all() > 0;
}

static struct poller blk_poller = { .name = "blk", .poll = poll_devices,
				    .stage = POLL_DEVICES };

size_t blk_probe_all(void)
{
	for (size_t i = 0; i < pci_device_count(); i++) {
		struct pci_device *pci = pci_device_at(i);
		if (!pci->driver)
			probe_function(pci);
	}
	unsigned before = blk_count();
	if (ramdisk_boot_create())
		log_device(blk_get(before), NULL);
	if (blk_count())
		mainloop_register(&blk_poller);
	return blk_count();
}
