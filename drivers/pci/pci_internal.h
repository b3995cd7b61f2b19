/* Between the files of drivers/pci only. */
#ifndef DRIVERS_PCI_INTERNAL_H
#define DRIVERS_PCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

bool pci_config_use_ecam(uint64_t base, uint8_t first, uint8_t last);
bool pci_config_has_ecam(void);
uint32_t pci_config_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
void pci_config_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);

#endif
