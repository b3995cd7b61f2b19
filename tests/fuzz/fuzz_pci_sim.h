/* A simulated PCI function for host-built drivers: 00:00.0 behind an ECAM
 * window of plain memory (a register reads back what was last written),
 * and memory BARs that are heap blocks of their exact size, so ASan sees
 * every access past the end of a device's registers. */
#ifndef TESTS_FUZZ_FUZZ_PCI_SIM_H
#define TESTS_FUZZ_FUZZ_PCI_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/pci/pci.h"

/* The configuration space of 00:00.0 (4 KiB), zeroed; sets up the ECAM
 * window on the first call. */
uint8_t *fuzz_pci_config(void);
/* Gives d a zeroed memory BAR i of size bytes; returns its registers. */
uint8_t *fuzz_pci_mem_bar(struct pci_device *d, int i, size_t size);
/* Frees the BARs fuzz_pci_mem_bar gave d. */
void fuzz_pci_free_bars(struct pci_device *d);

#endif
