/* One counter of an Intel 8254: its count register, counting element (CE),
 * output latch and status, read/write flip-flops, gate and OUT, as
 * functions of the PIT clock k (PIT clocks since VM time 0, vpit_tick()).
 * vpit.c wires three of them up as a PC's PIT.
 *
 * Every field is guest state (migration encodes them as they are).
 * @pre k never goes backwards from one call to the next on a counter, and
 * vpit_counter_sync(c, k) came before any call that changes the counter
 * (control, write, set_gate) at clock k. */
#ifndef HV_VDEV_VPIT_COUNTER_H
#define HV_VDEV_VPIT_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vdev/vpit_seq.h"

enum vpit_state {
	VPIT_IDLE,      /* no sequence: waiting for a count or a trigger */
	VPIT_RUNNING,   /* counting from load_tick */
	VPIT_SUSPENDED, /* gate low: modes 0/4 resume at s0, modes 2/3 reload */
};

struct vpit_counter {
	uint8_t control;     /* bits 5-0 of the last control word: RW, mode, BCD */
	uint16_t cr;         /* count register: the last count written */
	uint8_t cr_lsb;      /* first byte of a two-byte count */
	bool write_msb;      /* write flip-flop: the MSB comes next */
	bool read_msb;       /* read flip-flop: the MSB comes next */
	bool has_count;      /* a count was written since the control word */
	bool gate;
	uint8_t state;       /* enum vpit_state */
	uint16_t reload;     /* the count the running sequence uses */
	uint64_t load_tick;  /* PIT clock at which the sequence is at position s0 */
	uint64_t s0;
	uint16_t held_ce;    /* CE and OUT while not running, or before load_tick */
	bool held_out;
	bool switch_pending; /* modes 2/3: cr takes over at switch_tick, at switch_s0 */
	uint64_t switch_tick, switch_s0;
	uint64_t null_until; /* status "null count" until this PIT clock */
	bool count_latched, status_latched;
	uint16_t latched_count;
	uint8_t latched_status;
};

/* A control word for this counter (its RW field not 0: that is the
 * counter latch command). The CE keeps its value until a count comes. */
void vpit_counter_control(struct vpit_counter *c, uint8_t control_word, uint64_t k);
/* Counter latch or read-back: latches the count and/or the status unless
 * one of that kind is already waiting to be read. */
void vpit_counter_latch(struct vpit_counter *c, bool count, bool status, uint64_t k);

/* A byte written to / read from the counter's port, through the RW mode
 * and the flip-flops. The write returns false when a completed count is
 * illegal (a BCD digit above 9, or below 2 in modes 2 and 3); it is
 * used all the same. */
bool vpit_counter_write(struct vpit_counter *c, uint8_t value, uint64_t k);
uint8_t vpit_counter_read(struct vpit_counter *c, uint64_t k);

void vpit_counter_set_gate(struct vpit_counter *c, bool gate, uint64_t k);
bool vpit_counter_out(const struct vpit_counter *c, uint64_t k);

/* Rising edges of OUT at PIT clocks in (a, b], and the first one after a
 * (UINT64_MAX: none will come without a new count, control word or gate
 * edge). Both see a pending mode 2/3 count switch. @pre a <= b */
uint64_t vpit_counter_rises(const struct vpit_counter *c, uint64_t a, uint64_t b);
uint64_t vpit_counter_next_rise(const struct vpit_counter *c, uint64_t a);

/* Makes a count switch that is due by clock k the running sequence. Call
 * only once the edges up to k have been counted (it rebases the sequence,
 * after which vpit_counter_rises no longer sees edges before the switch). */
void vpit_counter_sync(struct vpit_counter *c, uint64_t k);

#endif
