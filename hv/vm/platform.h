/* The PC a VM sees (docs/guest-platform.md): its memory map, its devices
 * and how their interrupt lines are routed, its firmware tables, and the
 * VM clock the devices count from. The device models themselves are in
 * hv/vdev; this is where they are placed and connected. */
#ifndef HV_VM_PLATFORM_H
#define HV_VM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/vacpi_pm.h"
#include "hv/vdev/vioapic.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpic.h"
#include "hv/vdev/vpit.h"
#include "hv/vdev/vrtc.h"
#include "hv/vm/linux_boot.h"

struct vm;
struct vcpu;

#define PLATFORM_E820_MAX 8
#define PLATFORM_EBDA 0x9fc00ull
#define PLATFORM_BIOS_AREA 0xe0000ull  /* ACPI tables, RSDP first */
#define PLATFORM_HIGH_RAM 0x100000ull
#define PLATFORM_PCI_MMIO 0xc0000000ull /* above the most RAM a VM gets */
#define PLATFORM_ECAM 0xe0000000ull     /* PCI Express configuration, bus 0 */
#define PLATFORM_ECAM_SIZE 0x100000ull
#define PLATFORM_IOAPIC_ID 1            /* the one vCPU's local APIC is 0 */
#define PLATFORM_ISA_IRQS 16
#define PLATFORM_IRQ_SCI 9

struct platform {
	struct vpic pic;
	struct vpit pit;
	struct vioapic ioapic;
	struct vrtc rtc;
	struct vacpi_pm pm;
	struct vpci pci;
	uint64_t clock_base_ns; /* VM clock = host time - clock_base_ns */
	uint64_t next_event_ns; /* earliest timer event of the PIT, RTC, PM timer */
	bool events_stale;      /* a device was touched: next_event_ns must be asked again */
	uint64_t acpi_rsdp;     /* guest-physical, 0 before the tables are written */
	uint64_t mmio_master_aborts; /* accesses to addresses nothing decodes */
	uint64_t mmio_lapic, mmio_ioapic, mmio_ecam, mmio_virtio; /* accesses by window */
	uint64_t io_virtio;     /* accesses to the virtio devices' notify ports */
};

/* Every device at its power-on state, wired to the VM. The VM clock
 * starts at 0. @pre the VM's local APIC and UART are initialised */
void platform_init(struct vm *vm);
/* Writes the firmware's share of guest memory (ACPI tables, CMOS bytes)
 * and puts the local APIC in the virtual-wire mode a BIOS leaves. */
void platform_load_firmware(struct vm *vm);

/* The VM clock in ns: what the PIT, RTC and PM timer count from. */
uint64_t platform_clock(const struct vm *vm);
/* The VM clock at a given host TSC reading. */
uint64_t platform_clock_at(const struct vm *vm, uint64_t host_tsc);

/* Fires device timer events that are due. Cheap when none is: the
 * earliest one is kept until a timed device is touched. */
void platform_advance(struct vm *vm);
/* A timed device's registers were accessed: its next event may move. */
static inline void platform_timers_touched(struct platform *p)
{
	p->events_stale = true;
}

/* ISA IRQ 0-15 (irq_line callback, ctx = the VM): to the 8259 input and
 * the IOAPIC pin (IRQ0 to pin 2, as the MADT says). */
void platform_set_irq(void *vm, unsigned irq, bool level);

/* The guest's memory map for RAM of ram_size bytes; returns the entries. */
size_t platform_e820(uint64_t ram_size, struct e820_entry *map, size_t max);

/* The RSDP's guest-physical address, 0 when the VM has no ACPI tables. */
uint64_t platform_acpi_rsdp(const struct vm *vm);

/* MMIO: whether a device decodes gpa, and the access itself (the
 * instruction was decoded by the caller). Reads set *value. */
bool platform_mmio_claims(const struct vcpu *v, uint64_t gpa);
void platform_mmio_read(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *value);
void platform_mmio_write(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t value);

#endif
