/* The PC a VM sees (docs/guest-platform.md): its memory map and, as the
 * device models arrive, where each device sits and how interrupts are
 * routed. */
#ifndef HV_VM_PLATFORM_H
#define HV_VM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "hv/vm/linux_boot.h"

struct vm;

#define PLATFORM_E820_MAX 8
#define PLATFORM_EBDA 0x9fc00ull
#define PLATFORM_BIOS_AREA 0xe0000ull  /* ACPI tables, RSDP first */
#define PLATFORM_HIGH_RAM 0x100000ull

/* The guest's memory map for RAM of ram_size bytes; returns the entries. */
size_t platform_e820(uint64_t ram_size, struct e820_entry *map, size_t max);

/* The RSDP's guest-physical address, 0 when the VM has no ACPI tables. */
uint64_t platform_acpi_rsdp(const struct vm *vm);

#endif
