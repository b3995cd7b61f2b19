#include "drivers/serial/uart16550.h"

#include "hv/x86/cpu.h"

enum {
	REG_DATA = 0, REG_IER = 1, REG_FCR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5,
	REG_SCRATCH = 7,
	LSR_DATA_READY = 0x01, LSR_OVERRUN = 0x02, LSR_THR_EMPTY = 0x20,
	LCR_DLAB = 0x80, LCR_8N1 = 0x03,
};

/* A byte at 115200 baud takes ~87 us; give up on a stuck transmitter after
 * far longer than that rather than hang the hypervisor. */
#define TX_SPIN_LIMIT 1000000

void uart_init(struct uart *u, uint16_t port)
{
	u->port = port;
	u->overruns = 0;
	/* The scratch register must hold what we write if a UART is there. */
	outb(port + REG_SCRATCH, 0x5a);
	u->present = inb(port + REG_SCRATCH) == 0x5a;
	if (!u->present)
		return;
	outb(port + REG_IER, 0x00);
	outb(port + REG_LCR, LCR_DLAB);
	outb(port + REG_DATA, 1); /* divisor 1: 115200 baud */
	outb(port + REG_IER, 0);
	outb(port + REG_LCR, LCR_8N1);
	outb(port + REG_FCR, 0xc7); /* enable and clear FIFOs, 14-byte trigger */
	outb(port + REG_MCR, 0x03); /* DTR, RTS */
}

void uart_putc(struct uart *u, char c)
{
	if (!u->present)
		return;
	for (int i = 0; i < TX_SPIN_LIMIT; i++) {
		if (inb(u->port + REG_LSR) & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	outb(u->port + REG_DATA, (uint8_t)c);
}

bool uart_tx_ready(struct uart *u)
{
	return u->present && (inb(u->port + REG_LSR) & LSR_THR_EMPTY);
}

void uart_tx_byte(struct uart *u, char c)
{
	outb(u->port + REG_DATA, (uint8_t)c);
}

int uart_getc(struct uart *u)
{
	if (!u->present)
		return -1;
	uint8_t lsr = inb(u->port + REG_LSR);
	if (lsr & LSR_OVERRUN)
		u->overruns++;
	if (!(lsr & LSR_DATA_READY))
		return -1;
	return inb(u->port + REG_DATA);
}
