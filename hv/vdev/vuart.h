/* A 16550 UART for guests, polled (no interrupt line). Transmitted bytes go
 * to a callback; received bytes come from the console or `vm send`. */
#ifndef HV_VDEV_VUART_H
#define HV_VDEV_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_RX_SIZE 256

typedef void (*vuart_tx_fn)(void *ctx, uint8_t byte);

struct vuart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t rx[VUART_RX_SIZE];
	uint32_t rx_head, rx_tail; /* head: next to read */
	uint64_t tx_bytes, rx_bytes, rx_dropped;
	vuart_tx_fn tx;
	void *ctx;
};

void vuart_init(struct vuart *u, vuart_tx_fn tx, void *ctx);
/* offset: 0-7 from the base port. */
uint8_t vuart_read(struct vuart *u, unsigned offset);
void vuart_write(struct vuart *u, unsigned offset, uint8_t value);
/* Queues a byte for the guest; false (and counted) when the FIFO is full. */
bool vuart_receive(struct vuart *u, uint8_t byte);

#endif
