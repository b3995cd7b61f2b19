#include "hv/vdev/vuart.h"

#include "hv/lib/string.h"

enum { LCR_DLAB = 0x80, LSR_DR = 0x01, LSR_THRE = 0x20, LSR_TEMT = 0x40 };

void vuart_init(struct vuart *u, vuart_tx_fn tx, void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->ctx = ctx;
	u->lcr = 0x03;
	u->dll = 1;
}

static bool rx_empty(const struct vuart *u)
{
	return u->rx_head == u->rx_tail;
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	if (u->rx_tail - u->rx_head >= VUART_RX_SIZE) {
		u->rx_dropped++;
		return false;
	}
	u->rx[u->rx_tail++ % VUART_RX_SIZE] = byte;
	return true;
}

uint8_t vuart_read(struct vuart *u, unsigned off)
{
	switch (off & 7) {
	case 0:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (rx_empty(u))
			return 0;
		u->rx_bytes++;
		return u->rx[u->rx_head++ % VUART_RX_SIZE];
	case 1: return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case 2: return (u->fcr & 1) ? 0xc1 : 0x01; /* no interrupt pending */
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5: return LSR_THRE | LSR_TEMT | (rx_empty(u) ? 0 : LSR_DR);
	case 6: return 0xb0; /* DCD, DSR, CTS */
	default: return u->scr;
	}
}

void vuart_write(struct vuart *u, unsigned off, uint8_t v)
{
	switch (off & 7) {
	case 0:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
		} else {
			u->tx_bytes++;
			if (u->tx)
				u->tx(u->ctx, v);
		}
		break;
	case 1:
		if (u->lcr & LCR_DLAB)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case 2:
		u->fcr = v;
		if (v & 2)
			u->rx_head = u->rx_tail; /* clear the receive FIFO */
		break;
	case 3: u->lcr = v; break;
	case 4: u->mcr = v & 0x1f; break;
	case 7: u->scr = v; break;
	default: break; /* LSR and MSR are read-only */
	}
}
