/* One Intel 8254 counter, after the 8254 datasheet: control word, counter
 * latch and read-back latches, the read/write flip-flops, gates, and when
 * a written count reaches the counting element (CE). The sequences
 * themselves (CE and OUT per mode) are in vpit_seq.c.
 *
 * A running sequence is at position s0 at PIT clock load_tick and advances
 * one position per clock; before load_tick, and while idle or suspended,
 * the CE and OUT hold held_ce/held_out. A count is loaded into the CE on
 * the clock after it is written (so mode 0's OUT rises N + 1 clocks after
 * the write), except in modes 1 and 5 (on the clock after a gate trigger)
 * and in modes 2 and 3 while counting (at the end of the period or half
 * cycle, see vpit_seq_switch_point). Left open by the datasheet, chosen
 * here: a control word freezes the CE and drops pending latches. */
#include "hv/vdev/vpit_counter.h"

enum {
	CW_BCD = 0x01, CW_BITS = 0x3f,
	RW_LSB = 1, RW_MSB = 2,
	STATUS_OUT = 0x80, STATUS_NULL_COUNT = 0x40,
};

/* A sequence placed in time: at position s0 on PIT clock load_tick. */
struct placed {
	struct vpit_seq q;
	uint64_t load_tick, s0;
};

static unsigned mode_of(const struct vpit_counter *c)
{
	unsigned m = (c->control >> 1) & 7;

	return m > 5 ? m - 4 : m; /* modes 6 and 7 are 2 and 3 */
}

static unsigned rw_of(const struct vpit_counter *c)
{
	return (c->control >> 4) & 3;
}

static struct placed placed_of(const struct vpit_counter *c, uint16_t count, uint64_t load_tick,
			       uint64_t s0)
{
	bool bad;
	struct placed r = { .load_tick = load_tick, .s0 = s0 };

	r.q.mode = (uint8_t)mode_of(c);
	r.q.bcd = c->control & CW_BCD;
	r.q.n = vpit_count(count, r.q.bcd, &bad);
	return r;
}

static struct placed current_run(const struct vpit_counter *c)
{
	return placed_of(c, c->reload, c->load_tick, c->s0);
}

static struct placed switched_run(const struct vpit_counter *c)
{
	return placed_of(c, c->cr, c->switch_tick, c->switch_s0);
}

static struct placed run_at(const struct vpit_counter *c, uint64_t k)
{
	return c->switch_pending && k >= c->switch_tick ? switched_run(c) : current_run(c);
}

static uint64_t position(const struct placed *r, uint64_t k)
{
	return k < r->load_tick ? r->s0 : r->s0 + (k - r->load_tick);
}

/* The CE as read and the OUT level at PIT clock k. */
static void counter_at(const struct vpit_counter *c, uint64_t k, uint16_t *ce, bool *out)
{
	if (c->state != VPIT_RUNNING || k < c->load_tick) {
		*ce = c->held_ce;
		*out = c->held_out;
		return;
	}
	struct placed r = run_at(c, k);
	uint64_t s = position(&r, k);
	*ce = vpit_seq_ce(&r.q, s);
	*out = vpit_seq_out(&r.q, s);
}

bool vpit_counter_out(const struct vpit_counter *c, uint64_t k)
{
	uint16_t ce;
	bool out;

	counter_at(c, k, &ce, &out);
	return out;
}

static uint64_t placed_rises(const struct placed *r, uint64_t a, uint64_t b)
{
	if (b < r->load_tick)
		return 0;
	return vpit_seq_rises(&r->q, position(r, a), position(r, b));
}

uint64_t vpit_counter_rises(const struct vpit_counter *c, uint64_t a, uint64_t b)
{
	if (c->state != VPIT_RUNNING)
		return 0;
	struct placed cur = current_run(c);
	if (!c->switch_pending || b < c->switch_tick)
		return placed_rises(&cur, a, b);
	struct placed next = switched_run(c);
	uint64_t n = a < c->switch_tick ? placed_rises(&cur, a, c->switch_tick) : 0;
	return n + placed_rises(&next, a > c->switch_tick ? a : c->switch_tick, b);
}

static uint64_t placed_next_rise(const struct placed *r, uint64_t a)
{
	uint64_t s = vpit_seq_next_rise(&r->q, position(r, a));

	return s == UINT64_MAX ? UINT64_MAX : r->load_tick + (s - r->s0);
}

uint64_t vpit_counter_next_rise(const struct vpit_counter *c, uint64_t a)
{
	if (c->state != VPIT_RUNNING)
		return UINT64_MAX;
	if (c->switch_pending && a < c->switch_tick) {
		struct placed cur = current_run(c);
		uint64_t t = placed_next_rise(&cur, a);
		if (t <= c->switch_tick)
			return t;
		a = c->switch_tick;
	}
	struct placed r = run_at(c, a);
	return placed_next_rise(&r, a);
}

void vpit_counter_sync(struct vpit_counter *c, uint64_t k)
{
	if (!c->switch_pending || k < c->switch_tick)
		return;
	c->reload = c->cr;
	c->load_tick = c->switch_tick;
	c->s0 = c->switch_s0;
	c->switch_pending = false;
}

/* Modes 2/3 while counting: the new count waits for the end of the
 * period (mode 2) or half cycle (mode 3). */
static void schedule_switch(struct vpit_counter *c, uint64_t k)
{
	struct placed cur = current_run(c);
	struct placed next = placed_of(c, c->cr, 0, 0);
	uint64_t s = position(&cur, k);
	uint64_t at = vpit_seq_switch_point(&cur.q, s, next.q.n, &c->switch_s0);

	c->switch_pending = true;
	c->switch_tick = k + (at - s);
	c->null_until = c->switch_tick;
}

/* Returns false for an illegal count. */
static bool load_count(struct vpit_counter *c, uint16_t count, uint64_t k)
{
	unsigned mode = mode_of(c);
	bool bad_digit;
	uint32_t n = vpit_count(count, c->control & CW_BCD, &bad_digit);
	bool legal = !bad_digit && (n >= 2 || (mode != 2 && mode != 3)); /* minimum count 2 */

	c->cr = count;
	c->has_count = true;
	if (mode == 1 || mode == 5) {
		c->null_until = UINT64_MAX; /* the next trigger loads it */
		return legal;
	}
	if ((mode == 2 || mode == 3) && c->state == VPIT_RUNNING && k >= c->load_tick) {
		schedule_switch(c, k);
		return legal;
	}
	/* Loaded on the next clock, counting if the gate allows. */
	uint16_t ce;
	bool out;
	counter_at(c, k, &ce, &out);
	c->reload = count;
	c->s0 = 0;
	c->switch_pending = false;
	c->null_until = k + 1;
	c->held_out = mode != 0; /* mode 0: OUT low until terminal count */
	c->held_ce = c->gate ? ce : count;
	c->state = c->gate ? VPIT_RUNNING : VPIT_SUSPENDED;
	c->load_tick = k + 1;
	return legal;
}

static void gate_fall(struct vpit_counter *c, uint64_t k)
{
	unsigned mode = mode_of(c);
	uint16_t ce;
	bool out;

	if (c->state != VPIT_RUNNING || mode == 1 || mode == 5)
		return; /* modes 1 and 5 count on; the gate only triggers */
	counter_at(c, k, &ce, &out);
	struct placed cur = current_run(c);
	c->s0 = position(&cur, k); /* where modes 0 and 4 resume */
	c->held_ce = ce;
	c->held_out = (mode == 2 || mode == 3) ? true : out; /* 2/3: OUT high at once */
	c->state = VPIT_SUSPENDED;
	c->switch_pending = false; /* the next trigger reloads from CR anyway */
}

static void gate_rise(struct vpit_counter *c, uint64_t k)
{
	unsigned mode = mode_of(c);

	if (mode == 0 || mode == 4) {
		if (c->state == VPIT_SUSPENDED) {
			c->state = VPIT_RUNNING;
			c->load_tick = k + 1;
		}
		return;
	}
	if (!c->has_count)
		return;
	/* A trigger (modes 1, 2, 3, 5): the CE reloads from CR on the next clock. */
	counter_at(c, k, &c->held_ce, &c->held_out);
	c->reload = c->cr;
	c->s0 = 0;
	c->load_tick = k + 1;
	c->state = VPIT_RUNNING;
	c->switch_pending = false;
	c->null_until = k + 1;
}

void vpit_counter_set_gate(struct vpit_counter *c, bool gate, uint64_t k)
{
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (gate)
		gate_rise(c, k);
	else
		gate_fall(c, k);
}

/* The control logic resets; the CE keeps its value until a count comes. */
void vpit_counter_control(struct vpit_counter *c, uint8_t v, uint64_t k)
{
	bool out;

	counter_at(c, k, &c->held_ce, &out);
	c->control = v & CW_BITS;
	c->write_msb = false;
	c->read_msb = false;
	c->count_latched = false;
	c->status_latched = false;
	c->has_count = false;
	c->switch_pending = false;
	c->null_until = UINT64_MAX;
	c->state = VPIT_IDLE;
	c->held_out = mode_of(c) != 0; /* mode 0 starts low, all others high */
}

static void latch_count(struct vpit_counter *c, uint64_t k)
{
	bool out;

	if (c->count_latched)
		return; /* the first latch holds until read */
	counter_at(c, k, &c->latched_count, &out);
	c->count_latched = true;
}

static void latch_status(struct vpit_counter *c, uint64_t k)
{
	if (c->status_latched)
		return;
	c->latched_status = (vpit_counter_out(c, k) ? STATUS_OUT : 0) |
			    (k < c->null_until ? STATUS_NULL_COUNT : 0) | c->control;
	c->status_latched = true;
}

bool vpit_counter_write(struct vpit_counter *c, uint8_t v, uint64_t k)
{
	switch (rw_of(c)) {
	case RW_LSB: return load_count(c, v, k);
	case RW_MSB: return load_count(c, (uint16_t)(v << 8), k);
	default: break;
	}
	if (c->write_msb) {
		c->write_msb = false;
		return load_count(c, (uint16_t)(c->cr_lsb | v << 8), k);
	}
	c->cr_lsb = v;
	c->write_msb = true;
	if (mode_of(c) == 0) { /* mode 0: the first byte stops counting, OUT low at once */
		bool out;
		counter_at(c, k, &c->held_ce, &out);
		c->held_out = false;
		c->state = VPIT_IDLE;
	}
	return true;
}

uint8_t vpit_counter_read(struct vpit_counter *c, uint64_t k)
{
	uint16_t value = c->latched_count;
	bool out, msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}
	if (!c->count_latched)
		counter_at(c, k, &value, &out);
	switch (rw_of(c)) {
	case RW_LSB: msb = false; break;
	case RW_MSB: msb = true; break;
	default:
		msb = c->read_msb;
		c->read_msb = !msb;
		break;
	}
	if (msb || rw_of(c) == RW_LSB)
		c->count_latched = false; /* the latch is read out */
	return msb ? (uint8_t)(value >> 8) : (uint8_t)value;
}

void vpit_counter_latch(struct vpit_counter *c, bool count, bool status, uint64_t k)
{
	if (count)
		latch_count(c, k);
	if (status)
		latch_status(c, k);
}
