/* 16550-compatible UART, polled. The hypervisor's console lives on COM1:
 * hv/core/console.c queues its output and feeds the transmitter whenever
 * it is empty (uart_tx_ready), a FIFO's worth at a time; uart_putc, which
 * waits, is for panics. */
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
/* Waits (boundedly) for the transmitter, then sends c. */
void uart_putc(struct uart *u, char c);

/* Bytes the transmitter takes without waiting once uart_tx_ready() says it
 * is empty: the 16550A's FIFO. */
#define UART_TX_FIFO 16
/* Whether the transmit holding register (FIFO) is empty. False when absent. */
bool uart_tx_ready(struct uart *u);
/* Sends c without checking: @pre uart_tx_ready() was true, and at most
 * UART_TX_FIFO bytes were sent since. */
void uart_tx_byte(struct uart *u, char c);
/* Returns a received byte or -1. */
int uart_getc(struct uart *u);

#endif
