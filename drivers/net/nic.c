/* The NIC registry and what every driver shares: probing by PCI ID,
 * received-frame checks and counters. */
#include "drivers/net/nic.h"

#include "drivers/net/nic_drivers.h"
#include "drivers/pci/pci.h"
#include "hv/core/log.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/table.h"

static struct nic nics[NIC_MAX];
static struct table registered = TABLE_OF(nics);

struct nic *nic_at(size_t i)
{
	return table_at(&registered, i);
}

struct nic *nic_register(const char *model, struct pci_device *pci, const struct nic_ops *ops,
			 void *priv)
{
	struct nic *n = table_add(&registered);

	if (!n)
		return NULL;
	*n = (struct nic){ .model = model, .ops = ops, .pci = pci, .priv = priv };
	fmt_snprintf(n->name, sizeof(n->name), "eth%zu", table_index(&registered, n));
	return n;
}

size_t nic_frame_len(const struct nic_seg *segs, int nsegs)
{
	size_t len = 0;

	if (nsegs < 1 || nsegs > NIC_MAX_TX_SEGS)
		return 0;
	for (int i = 0; i < nsegs; i++)
		len += segs[i].len;
	return len >= NIC_MIN_FRAME && len <= NIC_MAX_FRAME ? len : 0;
}

void nic_rx_frame(struct nic *nic, void *cookie, uint8_t *frame, size_t len, unsigned flags)
{
	if (len < NIC_MIN_FRAME || len > NIC_MAX_FRAME + 4 /* a VLAN tag */) {
		nic->stats.rx_errors++;
		nic->client.rx_buf_free(nic->client.ctx, cookie);
		return;
	}
	nic->stats.rx_frames++;
	nic->stats.rx_bytes += len;
	if (flags & NIC_RX_L4_CSUM_GOOD)
		nic->stats.rx_csum_vouched++;
	nic->client.rx_deliver(nic->client.ctx, cookie, frame, len, flags);
}

static const struct nic_driver *const drivers[] = { &virtio_net_driver, &e1000_driver };

size_t nic_probe_all(void)
{
	for (size_t i = 0; i < pci_device_count(); i++) {
		struct pci_device *d = pci_device_at(i);
		for (size_t k = 0; k < sizeof(drivers) / sizeof(drivers[0]) && !d->driver; k++) {
			const struct nic_driver *drv = drivers[k];
			const char *model = nic_driver_match(drv, d);
			if (!model)
				continue;
			struct nic *n = drv->probe(d, model);
			if (!n) {
				log_warn("net: %s at %02x:%02x.%x: driver could not take it", model,
					 d->bus, d->dev, d->fn);
				continue;
			}
			d->driver = drv->name;
			log_info("net: %s: %s at %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x",
				 n->name, model, d->bus, d->dev, d->fn, n->mac[0], n->mac[1],
				 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		}
	}
	return table_count(&registered);
}

const char *nic_driver_match(const struct nic_driver *drv, const struct pci_device *pci)
{
	for (const struct nic_pci_id *id = drv->ids; id->vendor; id++)
		if (id->vendor == pci->vendor && id->device == pci->device)
			return id->model;
	return NULL;
}
