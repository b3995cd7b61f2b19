#include "hv/vm/platform.h"

#include "boot/firmware.h"
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/string.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/spinlock.h"

#define ACPI_AREA_SIZE 0x10000 /* 0xe0000-0xeffff: the tables are ~2.5 KiB */

size_t platform_e820(uint64_t ram_size, struct e820_entry *map, size_t max)
{
	const struct e820_entry layout[] = {
		{ 0, PLATFORM_EBDA, E820_RAM },
		{ PLATFORM_EBDA, 0xa0000 - PLATFORM_EBDA, E820_RESERVED },
		{ PLATFORM_BIOS_AREA, PLATFORM_HIGH_RAM - PLATFORM_BIOS_AREA, E820_RESERVED },
		{ PLATFORM_HIGH_RAM, ram_size - PLATFORM_HIGH_RAM, E820_RAM },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]) && n < max; i++)
		if (layout[i].size && layout[i].addr + layout[i].size <= ram_size)
			map[n++] = layout[i];
	/* The ECAM window (the MCFG's region) is reserved, as firmware does. */
	if (n < max)
		map[n++] = (struct e820_entry){ PLATFORM_ECAM, PLATFORM_ECAM_SIZE, E820_RESERVED };
	return n;
}

uint64_t platform_acpi_rsdp(const struct vm *vm)
{
	return vm->plat.acpi_rsdp;
}

uint64_t platform_clock(const struct vm *vm)
{
	return time_ns() - vm->plat.clock_base_ns;
}

uint64_t platform_clock_at(const struct vm *vm, uint64_t host_tsc)
{
	return time_ns_at(host_tsc) - vm->plat.clock_base_ns;
}

void platform_set_irq(void *ctx, unsigned irq, bool level)
{
	struct vm *vm = ctx;

	if (irq >= PLATFORM_ISA_IRQS)
		return;
	if (irq != 2) /* the cascade input: no ISA device drives it */
		vpic_set_irq(&vm->plat.pic, irq, level);
	vioapic_set_irq(&vm->plat.ioapic, irq == 0 ? 2 : irq, level);
}

/* IOAPIC messages go to the local APICs they address. */
static bool deliver_message(void *ctx, const struct apic_msg *m)
{
	struct vm *vm = ctx;

	return apic_bus_deliver(&vm->apic_bus, m);
}

static void broadcast_eoi(void *ctx, uint8_t vector)
{
	vioapic_eoi(&((struct vm *)ctx)->plat.ioapic, vector);
}

/* PM1_CNT's SLP_EN: S5 (the \_S5 type the DSDT gives) switches the VM off;
 * the VM has no sleep states short of that. */
static void sleep_requested(void *ctx, unsigned slp_typ)
{
	struct vm *vm = ctx;

	if (slp_typ == ACPI_S5_SLP_TYP)
		vm_stop(vm, "guest powered off (ACPI S5)");
	else
		log_info("vm %s: ACPI sleep type %u requested: not supported, ignored", vm->name,
			 slp_typ);
}

/* The 8259's INTR reaches vCPU 0 only (virtual wire through LINT0): when
 * it rises while another CPU runs vCPU 0, that CPU is told to look, as an
 * APIC message would tell it (vm.c). */
static void pic_intr_changed(void *ctx, unsigned line, bool level)
{
	struct vm *vm = ctx;

	(void)line;
	if (level && vm->apic_bus.delivered)
		vm->apic_bus.delivered(vm->apic_bus.delivered_ctx, 0);
}

void platform_init(struct vm *vm)
{
	struct platform *p = &vm->plat;
	struct irq_line irq0 = { platform_set_irq, vm, 0 };
	struct irq_line irq8 = { platform_set_irq, vm, 8 };
	struct irq_line sci = { platform_set_irq, vm, PLATFORM_IRQ_SCI };
	struct irq_line com1 = { platform_set_irq, vm, 4 };
	struct irq_line intr = { pic_intr_changed, vm, 0 };

	memset(p, 0, sizeof(*p));
	p->clock_base_ns = time_ns();
	p->events_stale = true;
	vpic_init(&p->pic, &intr);
	/* The SCI is level triggered (the MADT override says so too). */
	p->pic.chip[1].elcr = 1u << (PLATFORM_IRQ_SCI - 8);
	vpit_init(&p->pit, &irq0, 0);
	vioapic_init(&p->ioapic, deliver_message, vm);
	/* PCI INTx lines are active low and rest high (vm_disk.c drives them). */
	for (unsigned pin = PLATFORM_ISA_IRQS; pin < VIOAPIC_PINS; pin++)
		vioapic_set_irq(&p->ioapic, pin, true);
	p->ioapic.id = p->ioapic.arb_id = PLATFORM_IOAPIC_ID;
	vrtc_init(&p->rtc, (int64_t)fw_time_unix(), 0, &irq8);
	vacpi_pm_init(&p->pm, &sci, sleep_requested, vm, 0);
	vpci_init(&p->pci);
	vuart_set_irq(&vm->uart, com1);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vlapic_set_eoi_broadcast(&vm->vcpus[i].lapic, broadcast_eoi, vm);
}

/* Bytes a PC BIOS leaves in CMOS for old guests: base memory (0x15-0x16,
 * KiB), memory between 1 and 16 MiB (0x17-0x18 and 0x30-0x31, KiB) and
 * above 16 MiB (0x34-0x35, 64 KiB units). */
static void preset_cmos(struct vm *vm)
{
	uint64_t kib = vm->mem.size >> 10;
	uint64_t ext = kib > 1024 ? kib - 1024 : 0;
	uint64_t above16 = vm->mem.size > (16ull << 20) ? (vm->mem.size - (16ull << 20)) >> 16 : 0;

	if (ext > 0xfc00)
		ext = 0xfc00;
	if (above16 > 0xffff)
		above16 = 0xffff;
	vrtc_cmos_set(&vm->plat.rtc, 0x15, 640 & 0xff);
	vrtc_cmos_set(&vm->plat.rtc, 0x16, 640 >> 8);
	vrtc_cmos_set(&vm->plat.rtc, 0x17, (uint8_t)ext);
	vrtc_cmos_set(&vm->plat.rtc, 0x18, (uint8_t)(ext >> 8));
	vrtc_cmos_set(&vm->plat.rtc, 0x30, (uint8_t)ext);
	vrtc_cmos_set(&vm->plat.rtc, 0x31, (uint8_t)(ext >> 8));
	vrtc_cmos_set(&vm->plat.rtc, 0x34, (uint8_t)above16);
	vrtc_cmos_set(&vm->plat.rtc, 0x35, (uint8_t)(above16 >> 8));
}

/* One build area for every VM: a guest's reset runs on its own CPU. */
static struct spinlock acpi_build_lock = SPINLOCK_INIT(LOCK_RANK_GUEST_TABLES, "guest-acpi");

static void write_acpi_tables(struct vm *vm)
{
	static uint8_t buf[ACPI_AREA_SIZE];
	struct acpi_platform ap = {
		.cpu_count = vm->nvcpus, .ioapic_id = PLATFORM_IOAPIC_ID, .pci_root = true,
		.pci_mmio_base = (uint32_t)PLATFORM_PCI_MMIO,
		.pci_mmio_size = (uint32_t)(PLATFORM_ECAM - PLATFORM_PCI_MMIO),
		.mcfg = true, .ecam_base = PLATFORM_ECAM, .ecam_bus_first = 0, .ecam_bus_last = 0,
	};
	size_t rsdp = 0;
	bool irq = spin_lock_irqsave(&acpi_build_lock);
	size_t n = acpi_tables_build(buf, sizeof(buf), PLATFORM_BIOS_AREA, &ap, &rsdp);
	bool written = n && gmem_write(&vm->mem, PLATFORM_BIOS_AREA, buf, n);

	spin_unlock_irqrestore(&acpi_build_lock, irq);
	vm->plat.acpi_rsdp = 0;
	if (!written) {
		log_warn("vm %s: no room for the ACPI tables; the guest gets none", vm->name);
		return;
	}
	vm->plat.acpi_rsdp = PLATFORM_BIOS_AREA + rsdp;
}

void platform_load_firmware(struct vm *vm)
{
	write_acpi_tables(vm);
	preset_cmos(vm);
	vlapic_firmware_virtual_wire(&vm_bsp(vm)->lapic, rdtsc()); /* the BSP's only */
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void recompute_next_event(struct platform *p, uint64_t now)
{
	p->next_event_ns = earliest(earliest(vpit_next_event(&p->pit, now),
					     vrtc_next_event(&p->rtc, now)),
				    vacpi_pm_next_event(&p->pm, now));
	p->events_stale = false;
}

void platform_advance(struct vm *vm)
{
	struct platform *p = &vm->plat;
	uint64_t now = platform_clock(vm);

	if (p->events_stale)
		recompute_next_event(p, now);
	if (now < p->next_event_ns)
		return;
	if (vpit_next_event(&p->pit, now) <= now)
		vpit_advance(&p->pit, now);
	if (vrtc_next_event(&p->rtc, now) <= now)
		vrtc_advance(&p->rtc, now);
	if (vacpi_pm_next_event(&p->pm, now) <= now)
		vacpi_pm_advance(&p->pm, now);
	recompute_next_event(p, now);
}

static bool in_ioapic(uint64_t gpa)
{
	return gpa >= VIOAPIC_BASE && gpa < VIOAPIC_BASE + VIOAPIC_SIZE;
}

static bool in_ecam(uint64_t gpa)
{
	return gpa >= PLATFORM_ECAM && gpa < PLATFORM_ECAM + PLATFORM_ECAM_SIZE;
}

bool platform_mmio_claims(const struct vcpu *v, uint64_t gpa)
{
	const struct vm *vm = v->vm;

	return vlapic_claims(&v->lapic, gpa) || in_ioapic(gpa) || in_ecam(gpa) ||
	       vm_disk_mmio_claims(vm, gpa);
}

void platform_mmio_read(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *value)
{
	struct vm *vm = v->vm;

	if (in_ecam(gpa)) {
		vm->plat.mmio_ecam++;
		*value = vpci_ecam_read(&vm->plat.pci, gpa - PLATFORM_ECAM, size);
		return;
	}
	if (in_ioapic(gpa)) {
		vm->plat.mmio_ioapic++;
		*value = vioapic_read(&vm->plat.ioapic, (uint32_t)(gpa - VIOAPIC_BASE), size);
		return;
	}
	if (vm_disk_mmio_read(vm, gpa, size, value)) {
		vm->plat.mmio_virtio++;
		return;
	}
	if (!vlapic_claims(&v->lapic, gpa)) {
		vm->plat.mmio_master_aborts++;
		*value = ~0ull; /* nothing decodes it: the bus floats high */
		return;
	}
	vm->plat.mmio_lapic++;
	/* The APIC decodes aligned 32-bit registers; narrower reads take their
	 * bytes out of the register. */
	uint32_t offset = (uint32_t)(gpa - vlapic_mmio_base(&v->lapic)), reg = 0;
	vlapic_read(&v->lapic, offset & ~3u, &reg, rdtsc());
	*value = (uint64_t)(reg >> (8 * (offset & 3)));
}

void platform_mmio_write(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t value)
{
	struct vm *vm = v->vm;

	if (in_ecam(gpa)) {
		vm->plat.mmio_ecam++;
		vpci_ecam_write(&vm->plat.pci, gpa - PLATFORM_ECAM, size, (uint32_t)value);
		return;
	}
	if (in_ioapic(gpa)) {
		vm->plat.mmio_ioapic++;
		vioapic_write(&vm->plat.ioapic, (uint32_t)(gpa - VIOAPIC_BASE), size, value);
		return;
	}
	if (vm_disk_mmio_write(vm, gpa, size, value)) {
		vm->plat.mmio_virtio++;
		return;
	}
	if (!vlapic_claims(&v->lapic, gpa)) {
		vm->plat.mmio_master_aborts++;
		return;
	}
	vm->plat.mmio_lapic++;
	uint32_t offset = (uint32_t)(gpa - vlapic_mmio_base(&v->lapic));
	if (size == 4)
		vlapic_write(&v->lapic, offset, (uint32_t)value, rdtsc());
	else
		v->lapic.bad_accesses++; /* the APIC decodes 32-bit accesses only */
}
