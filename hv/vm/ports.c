#include "hv/vm/ports.h"

#include "hv/core/log.h"
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
	(void)size;
	return vuart_read(&vm->uart, off);
}

static enum port_result uart_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)size;
	vuart_write(&vm->uart, off, (uint8_t)v);
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

/* The 8259 pair: only the masks are kept; no line is ever raised. */
static uint32_t pic_read(struct vm *vm, uint16_t off, unsigned size, unsigned which)
{
	(void)size;
	return (off & 1) ? vm->pic_imr[which] : 0;
}

static enum port_result pic_write(struct vm *vm, uint16_t off, uint32_t v, unsigned which)
{
	if (off & 1)
		vm->pic_imr[which] = (uint8_t)v;
	return PORT_OK;
}

static uint32_t pic1_read(struct vm *vm, uint16_t off, unsigned size)
{
	return pic_read(vm, off, size, 0);
}

static uint32_t pic2_read(struct vm *vm, uint16_t off, unsigned size)
{
	return pic_read(vm, off, size, 1);
}

static enum port_result pic1_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)size;
	return pic_write(vm, off, v, 0);
}

static enum port_result pic2_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)size;
	return pic_write(vm, off, v, 1);
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
	if ((v & 0xff) == 0xfe) {
		vm_stop(vm, "guest requested a reset (keyboard controller)");
		return PORT_VM_STOPPED;
	}
	return PORT_OK;
}

static enum port_result reset_write(struct vm *vm, uint16_t off, unsigned size, uint32_t v)
{
	(void)off;
	(void)size;
	if (v & 4) {
		vm_stop(vm, "guest requested a reset (port 0xcf9)");
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
	{ 0x20, 2, "pic-master", pic1_read, pic1_write },
	{ 0xa0, 2, "pic-slave", pic2_read, pic2_write },
	{ 0x64, 1, "kbc", kbc_read, kbc_write },
	{ 0xcf9, 1, "reset", zero_read, reset_write },
	{ 0x80, 1, "post", zero_read, ignore_write },
};

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

	if (!d) {
		unhandled(vm, port, false);
		return size == 4 ? 0xffffffffu : size == 2 ? 0xffff : 0xff;
	}
	return d->read(vm, (uint16_t)(port - d->base), size);
}

enum port_result port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	const struct port_device *d = find(port);

	if (!d) {
		unhandled(vm, port, true);
		return PORT_OK;
	}
	return d->write(vm, (uint16_t)(port - d->base), size, value);
}
