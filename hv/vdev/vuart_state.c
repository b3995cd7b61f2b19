/* The 16550A's fields that the stream's UART record does not carry
 * (docs/device-state.md), checked against the registers and the receive
 * queue the record restored. */
#include "hv/vdev/vuart.h"

#include "hv/vdev/vdev_state.h"

#define LSR_OE 0x02
#define MSR_DELTAS 0x0f
#define MCR_LOOP 0x10
#define FCR_ENABLE 0x01

_Static_assert(VUART_EXTRA_STATE_SIZE == 4 + 4, "layout in docs/device-state.md");

size_t vuart_save_extra(const struct vuart *u, uint8_t *buf, size_t size)
{
	if (size < VUART_EXTRA_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VUART_EXTRA_STATE_SIZE);
	wput8(&w, u->lsr_errors);
	wput8(&w, u->msr_delta);
	wput8(&w, u->rbr);
	wput8(&w, u->thre_int);
	wput32(&w, u->rx_loop_held);
	return VUART_EXTRA_STATE_SIZE;
}

/* In loopback the chip holds what it had when loopback began, plus what
 * it looped to itself, never more than its FIFO (or RBR) holds nor more
 * than is queued; outside loopback the count is derived and kept at 0. */
static void check_loop_held(struct vdev_state_reader *r, const struct vuart *u)
{
	uint32_t queued = u->rx_tail - u->rx_head;
	uint32_t depth = (u->fcr & FCR_ENABLE) ? VUART_FIFO_SIZE : 1;
	uint32_t limit = queued < depth ? queued : depth;

	if (!(u->mcr & MCR_LOOP)) {
		vdev_state_check(r, u->rx_loop_held == 0, "rx_loop_held %u outside loopback",
				 u->rx_loop_held);
		return;
	}
	vdev_state_check(r, u->rx_loop_held <= limit,
			 "rx_loop_held %u: more than the chip holds (%u queued, depth %u)",
			 u->rx_loop_held, queued, depth);
}

int vuart_load_extra(struct vuart *u, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vuart next = *u; /* the UART record's registers and queue, wiring, counters */

	if (!vdev_state_begin(&r, "vuart", buf, len, VUART_EXTRA_STATE_SIZE, err, errlen))
		return -1;
	next.lsr_errors = wget8(&r.c);
	next.msr_delta = wget8(&r.c);
	next.rbr = wget8(&r.c); /* any byte: the last one the guest read */
	next.thre_int = vdev_state_bool(&r, "thre_int");
	next.rx_loop_held = wget32(&r.c);
	if (vdev_state_end(&r))
		return -1;
	/* Received bytes never have parity, framing or break errors: overrun
	 * (loopback only) is the one error latched. */
	vdev_state_check(&r, !(next.lsr_errors & ~LSR_OE), "lsr_errors 0x%02x: only OE is latched",
			 next.lsr_errors);
	vdev_state_check(&r, !(next.msr_delta & ~MSR_DELTAS),
			 "msr_delta 0x%02x: only bits 3-0 are deltas", next.msr_delta);
	check_loop_held(&r, &next);
	if (vdev_state_end(&r))
		return -1;
	*u = next;
	vuart_sync_irq(u);
	return 0;
}
