/* libFuzzer target: a PCI function's capability list as the hypervisor
 * walks it: pci_find_cap (drivers/pci) for the common IDs, then the virtio
 * transport's walk of its vendor capabilities (drivers/virtio/virtio_pci.c),
 * feature negotiation and queue set-up against the structures it found,
 * then the virtio-blk driver's probe (drivers/block/virtio_blk.c), which
 * reads the device configuration.
 *
 * The function is 00:00.0 behind a simulated ECAM window (plain memory: a
 * register reads back what was last written, which is all the transport
 * needs). Input: six BAR codes (low 2 bits: 0 absent, 1 I/O, 2-3 memory
 * of 64 << (code >> 2 & 7) bytes), then the 256 bytes of configuration
 * space, then the BARs' contents (the device's registers: features, queue
 * size, notify offset...). Each memory BAR is its own heap block, so ASan
 * sees every access past a structure the device described. Nothing may
 * hang (a capability pointing back at itself), crash or read outside. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/block/blk_drivers.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio_pci.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_pci_sim.h"

#define CFG_BYTES 256
#define COMMON_CFG_BYTES 0x38 /* virtio 1.x 4.1.4.3: through queue_device */
#define CC_QUEUE_SIZE 0x18

static uint8_t *ecam;
static uint8_t *bar_mem[PCI_BARS];

static void setup_bars(struct pci_device *d, const uint8_t *codes)
{
	for (int i = 0; i < PCI_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		uint8_t kind = codes[i] & 3;
		bar_mem[i] = NULL;
		if (kind == 1)
			*b = (struct pci_bar){ .base = 0xc000u + 0x100u * i, .size = 0x100,
					       .io = true };
		else if (kind >= 2)
			bar_mem[i] = fuzz_pci_mem_bar(d, i, 64u << (codes[i] >> 2 & 7));
	}
}

/* A window the driver keeps must lie inside one memory BAR, with room for
 * every byte it will touch there. */
static void check_window(const struct pci_device *d, volatile uint8_t *p, uint64_t len)
{
	for (int i = 0; i < PCI_BARS; i++)
		if (bar_mem[i] && (uint8_t *)p >= bar_mem[i] &&
		    (uint8_t *)p + len <= bar_mem[i] + d->bar[i].size)
			return;
	abort();
}

/* pci_find_cap's promise: an aligned offset in the list area holding the
 * ID asked for. Following a list by its answers may cycle; that is the
 * caller's to bound (64 steps here). */
static void walk_caps(const struct pci_device *d, uint8_t id)
{
	uint8_t off = pci_find_cap(d, id, 0);

	for (int steps = 0; off && steps < 64; steps++) {
		if (off < 0x40 || (off & 3) || ecam[off] != id)
			abort();
		off = pci_find_cap(d, id, off);
	}
}

static void exercise_virtio(struct pci_device *d)
{
	struct virtio_pci v;
	struct virtqueue *vq = calloc(1, sizeof(*vq));
	const char *why;

	if (virtio_pci_open(&v, d, &why) && virtio_pci_negotiate(&v, ~0ull, &why)) {
		check_window(d, v.common, COMMON_CFG_BYTES);
		check_window(d, v.notify, v.notify_len);
		check_window(d, v.device_cfg, v.device_cfg_len);
		if (v.isr)
			check_window(d, v.isr, 1);
		uint16_t offered = *(volatile uint16_t *)(v.common + CC_QUEUE_SIZE);
		volatile uint16_t *notify = virtio_pci_setup_queue(&v, 0, 256, vq);
		if (notify) {
			check_window(d, (volatile uint8_t *)notify, 2);
			/* What the driver wrote back: a power of two it was offered. */
			uint16_t size = *(volatile uint16_t *)(v.common + CC_QUEUE_SIZE);
			if (!size || (size & (size - 1)) || size > offered || size != vq->size)
				abort();
			*notify = 0;
		}
	}
	free(vq);
}

/* The device as the input describes it: configuration space (the rest of
 * the 4 KiB zero), then the BARs' registers, in BAR order. */
static void load_device(const struct pci_device *d, const uint8_t *data, size_t size)
{
	size_t n = size < CFG_BYTES ? size : CFG_BYTES;

	memset(ecam, 0, 4096);
	memcpy(ecam, data, n);
	data += n;
	size -= n;
	for (int i = 0; i < PCI_BARS; i++) {
		if (!bar_mem[i])
			continue;
		memset(bar_mem[i], 0, d->bar[i].size);
		n = size < d->bar[i].size ? size : d->bar[i].size;
		memcpy(bar_mem[i], data, n);
		data += n;
		size -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ids[] = { PCI_CAP_ID_MSI, PCI_CAP_ID_VENDOR, 0x10, PCI_CAP_ID_MSIX };
	struct pci_device d = { .vendor = 0x1af4, .device = 0x1041 };

	if (size < PCI_BARS)
		return 0;
	ecam = fuzz_pci_config();
	setup_bars(&d, data);
	load_device(&d, data + PCI_BARS, size - PCI_BARS);
	for (size_t i = 0; i < sizeof(ids); i++)
		walk_caps(&d, ids[i]);
	exercise_virtio(&d);
	/* Afresh: plain memory kept what the transport wrote, and pci_enable
	 * wrote the status register (write-1-to-clear on a real device) as 0. */
	load_device(&d, data + PCI_BARS, size - PCI_BARS);
	virtio_blk_driver.probe(&d);

	fuzz_blk_forget_all();
	fuzz_mm_release_all();
	fuzz_pci_free_bars(&d);
	return 0;
}
