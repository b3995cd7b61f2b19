/* 16550-compatible UART, polled. The hypervisor's console lives on COM1. */
#ifndef DRIVERS_SERIAL_UART16550_H
#define DRIVERS_SERIAL_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define UART_COM1 0x3f8

struct uart {
	uint16_t port;
	bool present;
	uint32_t overruns; /* receiver overrun errors seen (input lost) */
};

/* Programs 115200 8N1 with FIFOs. Marks the UART absent if nothing answers
 * at the port (lab servers without a COM1), so output never blocks. */
void uart_init(struct uart *u, uint16_t port);
void uart_putc(struct uart *u, char c);
/* Returns a received byte or -1. */
int uart_getc(struct uart *u);

#endif
