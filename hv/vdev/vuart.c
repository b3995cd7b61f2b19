/* NS16550A UART. Register behaviour follows the National Semiconductor
 * PC16550D datasheet; what Linux's 8250 driver checks when it identifies
 * the chip (8250_port.c: autoconfig, autoconfig_16550a, size_fifo and the
 * THRE tests in serial8250_do_startup) is what the tests replay.
 *
 * Simplifications, because the line behind the chip is infinitely fast:
 * - The transmitter is instantaneous: LSR.THRE and LSR.TEMT always read 1,
 *   and the THRE interrupt comes back right after each THR write.
 * - The character timeout (FIFO mode: data below the trigger level, no
 *   FIFO activity for 4 character times) is taken as elapsed at once:
 *   bytes arrive without gaps, so waiting would only delay the guest. Data
 *   below the trigger level reports IIR 0xcc (timeout), at or above it
 *   0xc4 (data available); both are cleared the same way.
 * - Received bytes never have parity, framing or break errors, so LSR bits
 *   2-4 and 7 stay 0 and overrun is the only receiver line status; it can
 *   happen only in loopback, since the console's queue waits for room.
 *   A break set with LCR bit 6 is not sent anywhere, even in loopback. */
#include "hv/vdev/vuart.h"

#include "hv/lib/string.h"

enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

enum { IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08, IER_MASK = 0x0f };

/* IIR bits 3:1 name the source; bit 0 set means nothing is pending. */
enum {
	IIR_MODEM = 0x00, IIR_NONE = 0x01, IIR_THRE = 0x02, IIR_RDA = 0x04, IIR_RLS = 0x06,
	IIR_TIMEOUT = 0x0c, IIR_FIFOS_ON = 0xc0,
};

enum {
	FCR_ENABLE = 0x01, FCR_RX_RESET = 0x02, FCR_TX_RESET = 0x04, FCR_DMA_MODE = 0x08,
	FCR_RESERVED = 0x30, FCR_TRIGGER_SHIFT = 6,
	FCR_PROGRAMMED = FCR_ENABLE | FCR_DMA_MODE | (3 << FCR_TRIGGER_SHIFT),
};

enum { LCR_WORD_LENGTH = 0x03, LCR_DLAB = 0x80 };

enum { MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10,
       MCR_MASK = 0x1f };

enum { LSR_DR = 0x01, LSR_OE = 0x02, LSR_ERRORS = 0x1e, LSR_THRE = 0x20, LSR_TEMT = 0x40 };

enum {
	MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08, MSR_DELTAS = 0x0f,
	MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80,
};

static bool fifo_mode(const struct vuart *u)
{
	return u->fcr & FCR_ENABLE;
}

static bool loopback(const struct vuart *u)
{
	return u->mcr & MCR_LOOP;
}

/* ---- Receive path: rx[] = bytes in the chip, then the console's queue. */

static uint32_t rx_queued(const struct vuart *u)
{
	return u->rx_tail - u->rx_head;
}

static uint32_t rx_depth(const struct vuart *u)
{
	return fifo_mode(u) ? VUART_FIFO_SIZE : 1; /* 16450 mode: RBR only */
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* How many bytes the chip holds. Outside loopback the console's queue
 * flows in as soon as there is room; in loopback its line is cut. */
static uint32_t rx_held(const struct vuart *u)
{
	uint32_t room = min_u32(rx_queued(u), rx_depth(u));

	return loopback(u) ? min_u32(u->rx_loop_held, room) : room;
}

static unsigned rx_trigger(const struct vuart *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	return fifo_mode(u) ? levels[(u->fcr >> FCR_TRIGGER_SHIFT) & 3] : 1;
}

/* Bits 5-8 of a character exist only for word lengths 5-8. */
static uint8_t word_mask(const struct vuart *u)
{
	return (uint8_t)(0xff >> (3 - (u->lcr & LCR_WORD_LENGTH)));
}

/* An RX FIFO reset or a FIFO mode change empties the chip; the console's
 * queue is on the other side of the line and stays. */
static void rx_discard_held(struct vuart *u)
{
	u->rx_head += rx_held(u);
	u->rx_loop_held = 0;
}

static uint8_t read_rbr(struct vuart *u)
{
	if (rx_held(u)) {
		u->rbr = u->rx[u->rx_head++ % VUART_RX_SIZE] & word_mask(u);
		if (loopback(u))
			u->rx_loop_held--;
		u->rx_bytes++;
	}
	return u->rbr; /* empty: the last character stays in RBR */
}

/* The transmitter's output looped into the receiver. A full FIFO loses the
 * new character; in 16450 mode it overwrites RBR. Both set OE. */
static void loopback_receive(struct vuart *u, uint8_t byte)
{
	uint32_t held = rx_held(u);

	if (held == rx_depth(u)) {
		if (!fifo_mode(u))
			u->rx[u->rx_head % VUART_RX_SIZE] = byte;
		u->lsr_errors |= LSR_OE;
		u->rx_overruns++;
		return;
	}
	if (rx_queued(u) == VUART_RX_SIZE) { /* the console's newest byte makes room */
		u->rx_tail--;
		u->rx_dropped++;
	}
	/* The console's queue moves back by one behind the chip's bytes. */
	for (uint32_t i = u->rx_tail; i != u->rx_head + held; i--)
		u->rx[i % VUART_RX_SIZE] = u->rx[(i - 1) % VUART_RX_SIZE];
	u->rx[(u->rx_head + held) % VUART_RX_SIZE] = byte;
	u->rx_tail++;
	u->rx_loop_held = held + 1;
}

/* ---- Interrupts. */

/* The highest-priority pending source (IIR bits 3:0). */
static uint8_t interrupt_id(const struct vuart *u)
{
	uint32_t held = rx_held(u);

	if ((u->ier & IER_ELSI) && (u->lsr_errors & LSR_ERRORS))
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && held)
		return held >= rx_trigger(u) ? IIR_RDA : IIR_TIMEOUT;
	if ((u->ier & IER_ETBEI) && u->thre_int)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr_delta & MSR_DELTAS))
		return IIR_MODEM;
	return IIR_NONE;
}

/* On a PC the INTR output reaches the bus through a buffer enabled by the
 * OUT2 pin. Loopback forces the modem control pins inactive, so the
 * interrupts that still work inside the chip do not reach the PIC. */
static bool pc_irq_level(const struct vuart *u)
{
	return interrupt_id(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
}

void vuart_sync_irq(struct vuart *u)
{
	bool level = pc_irq_level(u);

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

/* ---- Registers. */

static uint8_t read_iir(struct vuart *u)
{
	uint8_t id = interrupt_id(u);

	if (id == IIR_THRE) /* reading IIR acknowledges THRE, and only THRE */
		u->thre_int = false;
	return id | (fifo_mode(u) ? IIR_FIFOS_ON : 0);
}

static uint8_t read_lsr(struct vuart *u)
{
	uint8_t v = LSR_THRE | LSR_TEMT | (u->lsr_errors & LSR_ERRORS) | (rx_held(u) ? LSR_DR : 0);

	u->lsr_errors = 0;
	return v;
}

/* What the chip sees on its modem inputs: a connected terminal (DCD, DSR,
 * CTS asserted, no ring) or, in loopback, its own outputs. */
static uint8_t modem_inputs(uint8_t mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return ((mcr & MCR_DTR) ? MSR_DSR : 0) | ((mcr & MCR_RTS) ? MSR_CTS : 0) |
	       ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static uint8_t read_msr(struct vuart *u)
{
	uint8_t v = modem_inputs(u->mcr) | (u->msr_delta & MSR_DELTAS);

	u->msr_delta = 0;
	return v;
}

static void write_thr(struct vuart *u, uint8_t value)
{
	uint8_t byte = value & word_mask(u);

	u->thre_int = false;
	if (loopback(u)) {
		loopback_receive(u, byte);
	} else {
		u->tx_bytes++;
		if (u->tx)
			u->tx(u->ctx, byte);
	}
	/* The byte has left: THR is empty again and THRE re-arms. The caller
	 * updates the line once, so a line that was low rises (an edge). */
	u->thre_int = true;
}

static void write_ier(struct vuart *u, uint8_t value)
{
	if (value & ~IER_MASK)
		u->bad_accesses++;
	value &= IER_MASK;
	/* Enabling ETBEI while THR is empty raises THRE even after an IIR read
	 * acknowledged it (Linux's startup checks that THRE is re-asserted). */
	if (value & ~u->ier & IER_ETBEI)
		u->thre_int = true;
	u->ier = value;
}

/* Bits other than FIFO enable are programmed only when the write sets
 * FIFO enable; changing FIFO enable empties the FIFOs. */
static void write_fcr(struct vuart *u, uint8_t value)
{
	bool mode_change = (value ^ u->fcr) & FCR_ENABLE;

	if (value & FCR_RESERVED)
		u->bad_accesses++;
	if (mode_change || ((value & FCR_ENABLE) && (value & FCR_RX_RESET)))
		rx_discard_held(u);
	/* FCR_TX_RESET: the transmit FIFO is always empty already. */
	if (value & FCR_ENABLE)
		u->fcr = value & FCR_PROGRAMMED;
	else
		u->fcr &= (uint8_t)~FCR_ENABLE;
}

static uint8_t modem_deltas(uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after, d = 0;

	if (changed & MSR_CTS)
		d |= MSR_DCTS;
	if (changed & MSR_DSR)
		d |= MSR_DDSR;
	if ((before & MSR_RI) && !(after & MSR_RI)) /* trailing edge of RI only */
		d |= MSR_TERI;
	if (changed & MSR_DCD)
		d |= MSR_DDCD;
	return d;
}

static void write_mcr(struct vuart *u, uint8_t value)
{
	uint8_t before = modem_inputs(u->mcr);

	if (value & ~MCR_MASK)
		u->bad_accesses++;
	value &= MCR_MASK;
	if ((value & MCR_LOOP) && !loopback(u))
		u->rx_loop_held = rx_held(u); /* the chip keeps what it has */
	else if (!(value & MCR_LOOP))
		u->rx_loop_held = 0;
	u->mcr = value;
	u->msr_delta |= modem_deltas(before, modem_inputs(u->mcr));
}

static uint8_t read_register(struct vuart *u, unsigned offset)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case REG_DATA: return dlab ? u->dll : read_rbr(u);
	case REG_IER: return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR: return read_iir(u); /* no DLAB here: a 16550A has no EFR */
	case REG_LCR: return u->lcr;
	case REG_MCR: return u->mcr;
	case REG_LSR: return read_lsr(u);
	case REG_MSR: return read_msr(u);
	default: return u->scr;
	}
}

static void write_register(struct vuart *u, unsigned offset, uint8_t value)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case REG_DATA:
		if (dlab)
			u->dll = value;
		else
			write_thr(u, value);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = value;
		else
			write_ier(u, value);
		break;
	case REG_IIR_FCR: write_fcr(u, value); break;
	case REG_LCR: u->lcr = value; break;
	case REG_MCR: write_mcr(u, value); break;
	case REG_SCR: u->scr = value; break;
	default: u->bad_accesses++; break; /* LSR, MSR: read only (writes are factory test) */
	}
}

/* ---- Public interface. */

void vuart_init(struct vuart *u, vuart_tx_fn tx, void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->ctx = ctx;
	u->lcr = 0x03; /* 8N1 */
	u->dll = 1;    /* 115200 baud from the PC's 1.8432 MHz clock */
}

void vuart_set_irq(struct vuart *u, struct irq_line line)
{
	u->irq = line;
	u->irq_level = pc_irq_level(u);
	irq_set(&u->irq, u->irq_level);
}

uint8_t vuart_read(struct vuart *u, unsigned offset)
{
	if (offset > REG_SCR) {
		u->bad_accesses++;
		return 0xff;
	}
	uint8_t v = read_register(u, offset);
	vuart_sync_irq(u);
	return v;
}

void vuart_write(struct vuart *u, unsigned offset, uint8_t value)
{
	if (offset > REG_SCR) {
		u->bad_accesses++;
		return;
	}
	write_register(u, offset, value);
	vuart_sync_irq(u);
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	if (rx_queued(u) >= VUART_RX_SIZE) {
		u->rx_dropped++;
		return false;
	}
	u->rx[u->rx_tail++ % VUART_RX_SIZE] = byte;
	vuart_sync_irq(u);
	return true;
}
