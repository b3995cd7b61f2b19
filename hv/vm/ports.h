/* The guest's I/O port space: which device answers which port. Ports no
 * device claims read as all ones and ignore writes, like an empty ISA bus;
 * such accesses are counted (and the first few logged) per VM. Nothing a
 * guest does here reaches a real port. */
#ifndef HV_VM_PORTS_H
#define HV_VM_PORTS_H

#include <stddef.h>
#include <stdint.h>

struct vm;

enum port_result { PORT_OK, PORT_VM_STOPPED };

/* Accesses are counted per device, for 'vm info' (io.NAME) and the
 * benchmarks: which device a guest keeps busy. */
#define PORT_DEVICES_MAX 16

size_t port_device_count(void);
const char *port_device_name(size_t index);

uint32_t port_read(struct vm *vm, uint16_t port, unsigned size);
enum port_result port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);

#endif
