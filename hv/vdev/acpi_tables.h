/* The guest's ACPI tables, built into a caller's buffer for a guest physical
 * address (ACPI 6.0 Errata A; section numbers below are that version's):
 *
 *   RSDP (revision 2) -> RSDT and XSDT -> FADT -> FACS, DSDT
 *                                      -> MADT, [MCFG], [extra tables...]
 *
 * - FADT revision 6 (ACPI 6.0-6.5), 276 bytes: the layout of Linux 6.1's
 *   ACPICA (struct acpi_table_fadt ends at HypervisorId), so nothing is
 *   truncated or padded; revision >= 3 makes Linux take the X_ GAS fields
 *   (X_PM_TMR_BLK for its PM-timer clocksource) and read IAPC_BOOT_ARCH.
 * - Fixed hardware at the ports of docs/guest-platform.md: PM1a event 0x600,
 *   PM1a control 0x604, PM timer 0x608 (32-bit: TMR_VAL_EXT), SCI on IRQ 9,
 *   no SMI_CMD (always ACPI mode), reset register: I/O port 0xcf9, value 6.
 * - IAPC_BOOT_ARCH: LEGACY_DEVICES (ISA devices: PIC, PIT, RTC, UART) and
 *   "VGA not present"; the 8042 bit is clear (there is no keyboard), so Linux
 *   marks the i8042 firmware-absent and does not probe it (the reset-only
 *   i8042 at 0x64 still reboots as a fallback).
 * - Flags: WBINVD, PROC_C1, SLP_BUTTON (no fixed sleep button), RESET_REG_SUP,
 *   TMR_VAL_EXT; PWR_BUTTON clear: the power button is the fixed-feature one
 *   (PWRBTN_STS), which the VM can press (vacpi_pm_raise).
 * - MADT revision 4 (ACPI 6.0): PCAT_COMPAT, a local APIC per vCPU (IDs and
 *   processor UIDs 0..n-1, enabled), one I/O APIC at 0xfec00000 (GSI base
 *   0), overrides IRQ0 -> GSI 2 (conforming) and IRQ9 -> GSI 9 (level, active
 *   high), and LINT1 as NMI on all processors.
 * - DSDT: \_S5 = {5, 5, 0, 0} (ACPI_S5_SLP_TYP is what SLP_TYP holds when
 *   the guest powers off), \_SB, and, when asked, a PCI root bridge
 *   \_SB.PCI0 with its resources and interrupt routing (see below).
 * - MCFG, when asked: one ECAM window on segment 0. Linux uses it only if
 *   the window is reserved in the E820 map (or by a motherboard resource).
 * - Extra tables (an SSDT...) are copied in with a header and checksum made
 *   here, and listed in the RSDT and XSDT. */
#ifndef HV_VDEV_ACPI_TABLES_H
#define HV_VDEV_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_PM_IO_BASE 0x600    /* the vacpi_pm block: PM1a_EVT, +4 PM1a_CNT, +8 PM_TMR */
#define ACPI_SCI_IRQ 9
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06    /* 0xcf9: RST_CPU (bit 2) starts it, SYS_RST (bit 1): hard */
#define ACPI_CENTURY_CMOS 0x32
#define ACPI_S5_SLP_TYP 5
#define ACPI_LAPIC_BASE 0xfee00000u
#define ACPI_IOAPIC_BASE 0xfec00000u
#define ACPI_MAX_CPUS 255        /* xAPIC IDs 0-254 */
#define ACPI_MAX_EXTRA_TABLES 8

/* A table the builder adds as is: 'body' is what follows the 36-byte header. */
struct acpi_extra_table {
	char signature[4];
	uint8_t revision;
	const uint8_t *body;
	size_t body_len;
};

/* What the tables describe. */
struct acpi_platform {
	unsigned cpu_count;       /* 1 - ACPI_MAX_CPUS */
	uint8_t ioapic_id;
	bool mcfg;                /* describe an ECAM window */
	uint64_t ecam_base;       /* ... at this address (1 MiB per bus, from bus 0) */
	uint8_t ecam_bus_first, ecam_bus_last;
	bool pci_root;            /* \_SB.PCI0: bus 0, config ports, windows, _PRT */
	uint32_t pci_mmio_base;   /* 32-bit memory window of PCI0 (none if size is 0) */
	uint32_t pci_mmio_size;
	const struct acpi_extra_table *extra;
	unsigned extra_count;     /* at most ACPI_MAX_EXTRA_TABLES */
};

/* The GSI of PCI INTx 'pin' (0 = INTA#) of device 'slot' on bus 0, as the
 * DSDT's _PRT routes it: IOAPIC pins 16-23, rotated by slot so devices
 * spread over them (16 + (slot + pin) % 8). The VM must wire INTx the same. */
unsigned acpi_pci_intx_gsi(unsigned slot, unsigned pin);

/* Writes the table set into buf for guest physical address 'phys_addr' and
 * returns the bytes used, with the RSDP's offset in *rsdp_offset (0: the
 * RSDP comes first, so placing buf at 0xe0000 puts it where a guest scans).
 * Returns 0, and leaves *rsdp_offset alone, when the buffer is too small or
 * the platform is out of range.
 * @pre phys_addr is 64-byte aligned (the FACS needs it) and the tables end
 *      below 4 GiB (the RSDT holds 32-bit addresses); else 0 is returned. */
size_t acpi_tables_build(uint8_t *buf, size_t size, uint64_t phys_addr,
			 const struct acpi_platform *p, size_t *rsdp_offset);

#endif
