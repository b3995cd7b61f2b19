/* The counting sequence of one 8254 counter, as pure functions of the
 * position in it: s = 0 is the CLK pulse that loads the count into the
 * counting element (CE), s = 1 the first decrement, and so on. vpit.c
 * places sequences in time (PIT clocks) and handles gates and writes. */
#ifndef HV_VDEV_VPIT_SEQ_H
#define HV_VDEV_VPIT_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#define VPIT_HZ 1193182ull /* the PC's PIT input clock (14.31818 MHz / 12) */

struct vpit_seq {
	uint8_t mode; /* 0-5 (control word modes 6 and 7 are 2 and 3) */
	bool bcd;
	uint32_t n;   /* the count: 1-65536 binary, 1-10000 BCD */
};

/* The count a counter register value stands for (0 is the largest);
 * *bad is set when a BCD digit is above 9. */
uint32_t vpit_count(uint16_t cr, bool bcd, bool *bad);

/* The CE as the counter reads it (BCD-encoded in BCD mode) and the OUT
 * level at position s. */
uint16_t vpit_seq_ce(const struct vpit_seq *q, uint64_t s);
bool vpit_seq_out(const struct vpit_seq *q, uint64_t s);

/* The first position after s where OUT rises, or UINT64_MAX. */
uint64_t vpit_seq_next_rise(const struct vpit_seq *q, uint64_t s);
/* How many times OUT rises at positions in (a, b]. @pre a <= b */
uint64_t vpit_seq_rises(const struct vpit_seq *q, uint64_t a, uint64_t b);

/* Modes 2 and 3: a count written while counting takes over at the end of
 * the current period (mode 2) or half cycle (mode 3). Returns that
 * position (> s) and sets *next_s0 to where the new sequence of count n
 * starts (its low half when the switch ends a high half). */
uint64_t vpit_seq_switch_point(const struct vpit_seq *q, uint64_t s, uint32_t n,
			       uint64_t *next_s0);

/* PIT clocks elapsed at VM time now_ns, and the first VM time at which
 * clock `tick` has elapsed. */
uint64_t vpit_tick(uint64_t now_ns);
uint64_t vpit_tick_ns(uint64_t tick);

#endif
