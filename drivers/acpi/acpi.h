/* ACPI static tables: the few facts the hypervisor needs from them. */
#ifndef DRIVERS_ACPI_ACPI_H
#define DRIVERS_ACPI_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

#define ACPI_CPU_IDS_MAX 256

struct acpi_facts {
	bool present;
	uint8_t revision;
	char oem_id[7];
	int cpu_count;            /* enabled processors in the MADT */
	uint32_t apic_ids[ACPI_CPU_IDS_MAX]; /* theirs, in MADT order */
	int apic_id_count;        /* at most ACPI_CPU_IDS_MAX of cpu_count */
	uint64_t lapic_base;
	uint16_t pm_timer_port;   /* 0 if none */
	bool pm_timer_32bit;
	uint64_t ecam_base;       /* PCI Express config space (MCFG), 0 if none */
	uint8_t ecam_bus_first, ecam_bus_last;
	int table_count;
};

/* Parses the tables behind the RSDP (validating checksums). */
bool acpi_init(uint64_t rsdp);
const struct acpi_facts *acpi_facts(void);

/* The n-th table with this signature, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char *signature, int n);

#endif
