#include "hv/vm/ports.h"

#include "hv/core/log.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"

#define UNHANDLED_LOG_LIMIT 8

struct port_device {
	uint16_t base, count;
	const char *name;
	uint32_t (*read)(struct vm *vm, uint16_t offset, unsigned size);
	enum port_result (*write)(struct vm *vm, uint16_t offset, unsigned size, uint32_t v);
};

static uint32_t uart_read(struct vm *vm, uint16_t off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)vuart_read(&vm->uart, off + i) << (8 * i);
	return v;
}

static enum port_result uart_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		vuart_write(&vm->uart, off + i, (uint8_t)(v >> (8 * i)));
	return PORT_OK;
}

/* Bochs/QEMU debug console: one byte per write, reads say it exists. */
static uint32_t debugcon_read(struct vm *vm, uint16_t off, unsigned size)
{
	(void)vm;
	(void)off;
	(void)size;
	return 0xe9;
}

static enum port_result debugcon_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)off;
	(void)size;
	vm_output_byte(vm, (uint8_t)v);
	return PORT_OK;
}

/* isa-debug-exit: the written value is the guest's exit code. */
static enum port_result debug_exit_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)off;
	uint32_t code = size == 4 ? v : size == 2 ? (v & 0xffff) : (v & 0xff);
	vm->has_exit_code = true;
	vm->exit_code = code;
	vm_stop(vm, "debug exit with code %u", code);
	return PORT_VM_STOPPED;
}

static uint32_t pic_read(struct vm *vm, uint16_t off, unsigned size, uint16_t base)
{
	return vpic_read(&vm->plat.pic, (uint16_t)(base + off), size);
}

static enum port_result pic_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v,
				  uint16_t base)
{
	vpic_write(&vm->plat.pic, (uint16_t)(base + off), size, v);
	return PORT_OK;
}

static uint32_t pic_master_read(struct vm *vm, uint16_t off, unsigned size)
{
	return pic_read(vm, off, size, VPIC_MASTER_PORT);
}

static uint32_t pic_slave_read(struct vm *vm, uint16_t off, unsigned size)
{
	return pic_read(vm, off, size, VPIC_SLAVE_PORT);
}

static uint32_t elcr_read(struct vm *vm, uint16_t off, unsigned size)
{
	return pic_read(vm, off, size, VPIC_ELCR_PORT);
}

static enum port_result pic_master_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	return pic_write(vm, off, size, v, VPIC_MASTER_PORT);
}

static enum port_result pic_slave_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	return pic_write(vm, off, size, v, VPIC_SLAVE_PORT);
}

static enum port_result elcr_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	return pic_write(vm, off, size, v, VPIC_ELCR_PORT);
}

/* Reading the PIT or the PM block moves no timer event; writing may, and
 * so may reading the RTC (register C clears its flags). */
static uint32_t pit_read(struct vm *vm, uint16_t off, unsigned size)
{
	return vpit_read(&vm->plat.pit, (uint16_t)(VPIT_PORT + off), size, platform_clock(vm));
}

static enum port_result pit_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	platform_timers_touched(&vm->plat);
	vpit_write(&vm->plat.pit, (uint16_t)(VPIT_PORT + off), size, v, platform_clock(vm));
	return PORT_OK;
}

static uint32_t port_b_read(struct vm *vm, uint16_t off, unsigned size)
{
	return vpit_read(&vm->plat.pit, (uint16_t)(VPIT_PORT_B + off), size, platform_clock(vm));
}

static enum port_result port_b_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	platform_timers_touched(&vm->plat);
	vpit_write(&vm->plat.pit, (uint16_t)(VPIT_PORT_B + off), size, v, platform_clock(vm));
	return PORT_OK;
}

/* Byte-wide devices on the ISA bus: wider accesses are split by bytes. */
static uint32_t rtc_read(struct vm *vm, uint16_t off, unsigned size)
{
	platform_timers_touched(&vm->plat);
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)vrtc_read(&vm->plat.rtc, (off + i) & 1, platform_clock(vm)) << (8 * i);
	return v;
}

static enum port_result rtc_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	platform_timers_touched(&vm->plat);
	for (unsigned i = 0; i < size; i++)
		vrtc_write(&vm->plat.rtc, (off + i) & 1, (uint8_t)(v >> (8 * i)), platform_clock(vm));
	return PORT_OK;
}

static uint32_t pm_read(struct vm *vm, uint16_t off, unsigned size)
{
	return vacpi_pm_read(&vm->plat.pm, off, size, platform_clock(vm));
}

static enum port_result pm_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	platform_timers_touched(&vm->plat);
	vacpi_pm_write(&vm->plat.pm, off, size, v, platform_clock(vm));
	return vm->state == VM_RUNNING ? PORT_OK : PORT_VM_STOPPED; /* S5 switches it off */
}

static uint32_t all_ones(unsigned size)
{
	return size == 4 ? 0xffffffffu : size == 2 ? 0xffff : 0xff;
}

/* PCI configuration mechanism #1. Byte and word accesses to 0xcf8-0xcfb
 * are plain I/O: 0xcf9 is the reset control register. */
static enum port_result reset_control(struct vm *vm, uint32_t v)
{
	if (v & 4) { /* RST_CPU: 0x06 (full) and 0x0e (hard) alike */
		vm_request_reset(vm, "reset control register 0xcf9");
		return PORT_VM_STOPPED;
	}
	return PORT_OK;
}

static uint32_t pci_read(struct vm *vm, uint16_t off, unsigned size)
{
	uint32_t v;

	if (vpci_io_read(&vm->plat.pci, off, size, &v))
		return v;
	return off == 1 && size == 1 ? 0 : all_ones(size);
}

static enum port_result pci_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	if (vpci_io_write(&vm->plat.pci, off, size, v))
		return PORT_OK;
	return off == 1 && size == 1 ? reset_control(vm, v & 0xff) : PORT_OK;
}

static uint32_t kbc_read(struct vm *vm, uint16_t off, unsigned size)
{
	(void)vm;
	(void)off;
	(void)size;
	return 0x1c; /* status: system flag, input buffer empty, nothing to read */
}

static enum port_result kbc_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)off;
	(void)size;
	if ((v & 0xff) == 0xfe) { /* pulse the reset line */
		vm_request_reset(vm, "keyboard controller");
		return PORT_VM_STOPPED;
	}
	return PORT_OK;
}

/* System control port A: bit 1 is A20 (always on here), bit 0 a fast reset. */
static uint32_t port_a_read(struct vm *vm, uint16_t off, unsigned size)
{
	(void)vm;
	(void)off;
	(void)size;
	return 0x02;
}

static enum port_result port_a_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)off;
	(void)size;
	if (v & 1) {
		vm_request_reset(vm, "system control port A");
		return PORT_VM_STOPPED;
	}
	return PORT_OK;
}

static uint32_t zero_read(struct vm *vm, uint16_t off, unsigned size)
{
	(void)vm;
	(void)off;
	(void)size;
	return 0;
}

static enum port_result ignore_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)vm;
	(void)off;
	(void)size;
	(void)v;
	return PORT_OK;
}

static const struct port_device devices[] = {
	{ 0x3f8, 8, "uart", uart_read, uart_write },
	{ 0xe9, 1, "debugcon", debugcon_read, debugcon_write },
	{ 0xf4, 4, "debug-exit", zero_read, debug_exit_write },
	{ VPIC_MASTER_PORT, 2, "pic-master", pic_master_read, pic_master_write },
	{ VPIC_SLAVE_PORT, 2, "pic-slave", pic_slave_read, pic_slave_write },
	{ VPIC_ELCR_PORT, 2, "elcr", elcr_read, elcr_write },
	{ VPIT_PORT, 4, "pit", pit_read, pit_write },
	{ VPIT_PORT_B, 1, "port-b", port_b_read, port_b_write },
	{ 0x64, 1, "kbc", kbc_read, kbc_write },
	{ 0x70, 2, "rtc", rtc_read, rtc_write },
	{ 0x80, 1, "post", zero_read, ignore_write },
	{ 0x92, 1, "port-a", port_a_read, port_a_write },
	{ ACPI_PM_IO_BASE, VACPI_PM_SIZE, "acpi-pm", pm_read, pm_write },
	{ VPCI_PORT_BASE, VPCI_PORT_COUNT, "pci", pci_read, pci_write },
};

_Static_assert(sizeof(devices) / sizeof(devices[0]) <= PORT_DEVICES_MAX,
	       "every device has its access counter in struct vm");

size_t port_device_count(void)
{
	return sizeof(devices) / sizeof(devices[0]);
}

const char *port_device_name(size_t index)
{
	return index < port_device_count() ? devices[index].name : NULL;
}

static const struct port_device *find(uint16_t port)
{
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (port >= devices[i].base && port < devices[i].base + devices[i].count)
			return &devices[i];
	return NULL;
}

static void unhandled(struct vm *vm, uint16_t port, bool write)
{
	if (vm->ports_unhandled++ < UNHANDLED_LOG_LIMIT)
		log_debug("vm %s: %s of port 0x%x has no device (%s)", vm->name,
			  write ? "write" : "read", port, write ? "ignored" : "reads all ones");
}

uint32_t port_read(struct vm *vm, uint16_t port, unsigned size)
{
	const struct port_device *d = find(port);
	uint32_t value;

	if (!d && vm_disk_port_read(vm, port, size, &value)) {
		vm->plat.io_virtio++;
		return value & all_ones(size);
	}
	if (!d) {
		unhandled(vm, port, false);
		return all_ones(size);
	}
	vm->port_accesses[d - devices]++;
	return d->read(vm, (uint16_t)(port - d->base), size) & all_ones(size);
}

enum port_result port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	const struct port_device *d = find(port);

	if (!d && vm_disk_port_write(vm, port, size, value)) {
		vm->plat.io_virtio++;
		return PORT_OK;
	}
	if (!d) {
		unhandled(vm, port, true);
		return PORT_OK;
	}
	vm->port_accesses[d - devices]++;
	return d->write(vm, (uint16_t)(port - d->base), size, value);
}
