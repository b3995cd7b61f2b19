/* The guest's I/O port space: which device answers which port. Ports no
 * device claims read as all ones and ignore writes, like an empty ISA bus;
 * such accesses are counted (and the first few logged) per VM. Nothing a
 * guest does here reaches a real port. */
#ifndef HV_VM_PORTS_H
#define HV_VM_PORTS_H

#include <stdint.h>

struct vm;

enum port_result { PORT_OK, PORT_VM_STOPPED };

uint32_t port_read(struct vm *vm, uint16_t port, unsigned size);
enum port_result port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);

#endif
