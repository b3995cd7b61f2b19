/* See fuzz_pci_sim.h. */
#include "tests/fuzz/fuzz_pci_sim.h"

#include <stdlib.h>
#include <string.h>

#include "drivers/pci/pci_internal.h" /* pci_config_use_ecam: the window is ours */

#define ECAM_BUS (1u << 20) /* one bus: 32 devices x 8 functions x 4 KiB */

static uint8_t *ecam;

uint8_t *fuzz_pci_config(void)
{
	if (!ecam) {
		ecam = aligned_alloc(4096, ECAM_BUS);
		if (!ecam || !pci_config_use_ecam((uint64_t)(uintptr_t)ecam, 0, 0))
			abort();
	}
	memset(ecam, 0, 4096);
	return ecam;
}

uint8_t *fuzz_pci_mem_bar(struct pci_device *d, int i, size_t size)
{
	uint8_t *regs = calloc(1, size);

	if (!regs)
		abort();
	d->bar[i] = (struct pci_bar){ .base = (uint64_t)(uintptr_t)regs, .size = size };
	return regs;
}

void fuzz_pci_free_bars(struct pci_device *d)
{
	for (int i = 0; i < PCI_BARS; i++) {
		if (d->bar[i].base && !d->bar[i].io)
			free((void *)(uintptr_t)d->bar[i].base);
		d->bar[i] = (struct pci_bar){ 0 };
	}
}
