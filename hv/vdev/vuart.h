/* An NS16550A UART for guests (COM1 on the guest PC): the 16550A's
 * registers, its 16-byte receive FIFO with trigger levels, the interrupt
 * sources in their priority order, modem control with loopback and the
 * modem status deltas, and the PC's interrupt wiring (the INTR output
 * reaches the interrupt controllers only while MCR.OUT2 drives its pin).
 * Linux's 8250 driver identifies it as "16550A".
 *
 * The line behind the chip is infinitely fast: transmitted bytes go to a
 * callback at once (THR and the transmit FIFO are always empty again right
 * after a write), and received bytes wait in a console-side queue until the
 * chip has room (flow control, so `vm send` never loses a byte to overrun).
 * No time passes inside the device, so it has no next_event/advance. */
#ifndef HV_VDEV_VUART_H
#define HV_VDEV_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"

/* Bytes queued for the guest: those inside the chip (its RBR or receive
 * FIFO) plus those the console has sent that the chip has no room for. */
#define VUART_RX_SIZE 256
#define VUART_FIFO_SIZE 16 /* the 16550A's receive FIFO */

typedef void (*vuart_tx_fn)(void *ctx, uint8_t byte);

/* Guest state (everything the guest can observe; migration carries it):
 * the registers down to rx_loop_held. irq_level follows from them
 * (vuart_sync_irq recomputes it). Counters are statistics; tx, ctx and irq
 * are wiring. */
struct vuart {
	uint8_t ier;        /* bits 0-3; 4-7 read as 0 */
	uint8_t lcr, scr, dll, dlm;
	uint8_t mcr;        /* bits 0-4; 5-7 read as 0 */
	uint8_t fcr;        /* as programmed: FIFO enable, DMA mode, RX trigger (bits 0, 3, 6-7) */
	uint8_t lsr_errors; /* LSR error bits latched until LSR is read (OE only: see vuart.c) */
	uint8_t msr_delta;  /* MSR bits 0-3 (DCTS, DDSR, TERI, DDCD) until MSR is read */
	uint8_t rbr;        /* the last byte delivered: what RBR reads when empty */
	bool thre_int;      /* THRE interrupt latched: cleared by THR writes, or by reading
			     * IIR while THRE is the source it reports */
	/* rx[rx_head..rx_tail), oldest first: the chip's bytes, then the
	 * console's queue. Indexes run free (modulo VUART_RX_SIZE). */
	uint8_t rx[VUART_RX_SIZE];
	uint32_t rx_head, rx_tail;
	/* In loopback (MCR bit 4), the line from the console is disconnected:
	 * the chip holds the first rx_loop_held bytes of rx[] and no more.
	 * Outside loopback the chip holds min(queued, FIFO depth), derived. */
	uint32_t rx_loop_held;

	bool irq_level;     /* level last driven on irq: INTR && OUT2 pin active */

	uint64_t tx_bytes;     /* bytes sent out on the line (to tx) */
	uint64_t rx_bytes;     /* bytes the guest read from RBR */
	uint64_t rx_dropped;   /* console bytes refused by vuart_receive (queue full), or
				* displaced from a full queue by a loopback byte */
	uint64_t rx_overruns;  /* bytes lost to overrun (loopback only) */
	uint64_t bad_accesses; /* offsets past 7, writes to LSR/MSR, reserved bits set */

	vuart_tx_fn tx;
	void *ctx;
	struct irq_line irq;
};

/* Resets the UART to the state firmware leaves COM1 in: 115200 baud
 * (divisor 1), 8N1, FIFOs off, interrupts disabled, MCR 0 (OUT2 off, so
 * the interrupt line is low). No interrupt line until vuart_set_irq. */
void vuart_init(struct vuart *u, vuart_tx_fn tx, void *ctx);

/* Connects the interrupt line (IRQ4 for COM1) and drives its current level
 * on it once, so the receiver starts from a known level.
 * @pre u was initialised with vuart_init. */
void vuart_set_irq(struct vuart *u, struct irq_line line);

/* A byte-wide register access. offset: 0-7 from the base port; past 7
 * reads 0xff, writes are ignored, both counted in bad_accesses. Side
 * effects are the 16550A's (reading RBR, IIR, LSR, MSR; writing THR, IER,
 * FCR, MCR); the interrupt line is updated before returning. */
uint8_t vuart_read(struct vuart *u, unsigned offset);
void vuart_write(struct vuart *u, unsigned offset, uint8_t value);

/* A byte from the console for the guest. Queued behind the chip when its
 * FIFO (or RBR) is full, so nothing overruns; false, counted in
 * rx_dropped, when VUART_RX_SIZE bytes are already queued. Raises the
 * receive interrupt as the 16550A would. */
bool vuart_receive(struct vuart *u, uint8_t byte);

/* Drives the interrupt line from the current state. Call after writing
 * guest-state fields directly (a migration restore). */
void vuart_sync_irq(struct vuart *u);

/* Migration of the fields the stream's UART record does not carry
 * (vuart_state.c; layout and checks in docs/device-state.md). */
#define VUART_EXTRA_STATE_SIZE 8 /* lsr_errors, msr_delta, rbr, thre_int, rx_loop_held */
/* lsr_errors, msr_delta, rbr, thre_int and rx_loop_held as a blob of
 * exactly VUART_EXTRA_STATE_SIZE bytes. Returns the size, or 0 when 'size'
 * is too small. */
size_t vuart_save_extra(const struct vuart *u, uint8_t *buf, size_t size);
/* Checks the fields (only OE latched in lsr_errors, only bits 3-0 in
 * msr_delta, thre_int 0 or 1, rx_loop_held 0 outside loopback and never
 * more than the chip holds) and only when all of it is acceptable replaces
 * them, then drives the interrupt line (vuart_sync_irq). Returns 0, or -1
 * with the reason (naming the field) in err and the UART unchanged.
 * @pre the UART record's registers and receive queue were restored first. */
int vuart_load_extra(struct vuart *u, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
