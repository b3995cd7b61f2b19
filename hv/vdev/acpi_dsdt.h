/* The AML body of the guest's DSDT (what follows its table header), for
 * acpi_tables.c. */
#ifndef HV_VDEV_ACPI_DSDT_H
#define HV_VDEV_ACPI_DSDT_H

#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/acpi_tables.h"

/* Writes the definition block's AML into buf; returns its length, or 0 if
 * it does not fit. */
size_t acpi_dsdt_aml(uint8_t *buf, size_t size, const struct acpi_platform *p);

#endif
