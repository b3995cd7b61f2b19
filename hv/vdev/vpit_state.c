/* The 8254's state blob (docs/device-state.md). Loading accepts only what
 * the counters can reach through their ports and gates (vpit.c,
 * vpit_counter.c); each check says which rule it stands for. Times are PIT
 * clocks since VM time 0, bounded by irq_tick, the clock of the last port
 * write (every write delivers what is due first, vpit_write). */
#include "hv/vdev/vpit.h"

#include "hv/vdev/vdev_state.h"

#define COUNTER_BYTES 60
#define RW_LSB_MSB 3
#define MAX_COUNT 65536u          /* binary 0; BCD counts are smaller, even with bad digits */
#define MAX_HALF (MAX_COUNT / 2)  /* the furthest a count switch places s0 (mode 3) */
#define CONTROL_KEPT 0x3f
#define PORT_B_WRITABLE 0x0f

_Static_assert(VPIT_STATE_SIZE == 3 * COUNTER_BYTES + 1 + 8, "layout in docs/device-state.md");

static void put_counter(struct wire_cursor *w, const struct vpit_counter *c)
{
	wput8(w, c->control);
	wput16(w, c->cr);
	wput8(w, c->cr_lsb);
	wput8(w, c->write_msb);
	wput8(w, c->read_msb);
	wput8(w, c->has_count);
	wput8(w, c->gate);
	wput8(w, c->state);
	wput16(w, c->reload);
	wput64(w, c->load_tick);
	wput64(w, c->s0);
	wput16(w, c->held_ce);
	wput8(w, c->held_out);
	wput8(w, c->switch_pending);
	wput64(w, c->switch_tick);
	wput64(w, c->switch_s0);
	wput64(w, c->null_until);
	wput8(w, c->count_latched);
	wput8(w, c->status_latched);
	wput16(w, c->latched_count);
	wput8(w, c->latched_status);
}

size_t vpit_save(const struct vpit *pit, uint8_t *buf, size_t size)
{
	if (size < VPIT_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VPIT_STATE_SIZE);
	for (unsigned i = 0; i < 3; i++)
		put_counter(&w, &pit->ch[i]);
	wput8(&w, pit->port_b);
	wput64(&w, pit->irq_tick);
	return VPIT_STATE_SIZE;
}

static void get_counter(struct vdev_state_reader *r, struct vpit_counter *c, unsigned i)
{
	c->control = wget8(&r->c);
	c->cr = wget16(&r->c);
	c->cr_lsb = wget8(&r->c);
	c->write_msb = vdev_state_bool(r, "counter %u write_msb", i);
	c->read_msb = vdev_state_bool(r, "counter %u read_msb", i);
	c->has_count = vdev_state_bool(r, "counter %u has_count", i);
	c->gate = vdev_state_bool(r, "counter %u gate", i);
	c->state = wget8(&r->c);
	c->reload = wget16(&r->c);
	c->load_tick = wget64(&r->c);
	c->s0 = wget64(&r->c);
	c->held_ce = wget16(&r->c);
	c->held_out = vdev_state_bool(r, "counter %u held_out", i);
	c->switch_pending = vdev_state_bool(r, "counter %u switch_pending", i);
	c->switch_tick = wget64(&r->c);
	c->switch_s0 = wget64(&r->c);
	c->null_until = wget64(&r->c);
	c->count_latched = vdev_state_bool(r, "counter %u count_latched", i);
	c->status_latched = vdev_state_bool(r, "counter %u status_latched", i);
	c->latched_count = wget16(&r->c);
	c->latched_status = wget8(&r->c);
}

/* Modes 6 and 7 are kept as written (read-back status returns them) and
 * count as 2 and 3. */
static unsigned mode_of(const struct vpit_counter *c)
{
	unsigned m = (c->control >> 1) & 7;

	return m > 5 ? m - 4 : m;
}

static unsigned rw_of(const struct vpit_counter *c)
{
	return (c->control >> 4) & 3;
}

/* The control word and what it governs: bits 7-6 select the counter and
 * are not kept; RW 0 is the latch command, never stored; the flip-flops
 * only move in LSB-then-MSB mode; a latched status carries the control
 * bits it was latched with (a control word drops pending latches). */
static void check_control(struct vdev_state_reader *r, const struct vpit_counter *c, unsigned i)
{
	vdev_state_check(r, !(c->control & ~CONTROL_KEPT),
			 "counter %u control 0x%02x: bits 7-6 are not kept", i, c->control);
	vdev_state_check(r, rw_of(c) != 0, "counter %u control 0x%02x: RW 0 is the latch command",
			 i, c->control);
	vdev_state_check(r, !c->write_msb || rw_of(c) == RW_LSB_MSB,
			 "counter %u write_msb without LSB/MSB access", i);
	vdev_state_check(r, !c->read_msb || rw_of(c) == RW_LSB_MSB,
			 "counter %u read_msb without LSB/MSB access", i);
	vdev_state_check(r, !c->status_latched || (c->latched_status & CONTROL_KEPT) == c->control,
			 "counter %u latched_status 0x%02x: not latched under control 0x%02x", i,
			 c->latched_status, c->control);
	vdev_state_check(r, c->state <= VPIT_SUSPENDED, "counter %u state %u: not 0-2", i,
			 c->state);
}

/* Idle, running, suspended, as the control word, counts and gate edges
 * leave them (vpit_counter.c): a control word idles the counter with OUT
 * low in mode 0, high otherwise, and forgets the count; only a count
 * starts a sequence; a low gate suspends modes 0, 2, 3 and 4 (OUT high at
 * once in 2 and 3) and only triggers modes 1 and 5, which count on. */
static void check_state(struct vdev_state_reader *r, const struct vpit_counter *c, unsigned i)
{
	unsigned mode = mode_of(c);
	bool periodic = mode == 2 || mode == 3, one_shot = mode == 1 || mode == 5;

	vdev_state_check(r, c->state == VPIT_IDLE || c->has_count,
			 "counter %u state %u without a count", i, c->state);
	vdev_state_check(r, c->state != VPIT_IDLE || c->held_out == (mode != 0),
			 "counter %u idle in mode %u with held_out %u", i, mode, c->held_out);
	vdev_state_check(r, c->state != VPIT_SUSPENDED || (!c->gate && !one_shot),
			 "counter %u suspended in mode %u with gate %u", i, mode, c->gate);
	vdev_state_check(r, c->state != VPIT_SUSPENDED || !periodic || c->held_out,
			 "counter %u suspended in mode %u with OUT low", i, mode);
	vdev_state_check(r, c->state != VPIT_RUNNING || c->gate || one_shot,
			 "counter %u running in mode %u with its gate low", i, mode);
	/* The sequence counts from the count register, except in modes 1 and
	 * 5 (a new count waits for a trigger), while a mode 2/3 switch is
	 * pending, and in mode 2/3 suspended (the next trigger reloads). */
	bool uses_cr = ((mode == 0 || mode == 4) && c->state != VPIT_IDLE) ||
		       (periodic && c->state == VPIT_RUNNING && !c->switch_pending);
	vdev_state_check(r, !uses_cr || c->reload == c->cr,
			 "counter %u reload 0x%04x differs from cr 0x%04x", i, c->reload, c->cr);
}

/* A count written while mode 2 or 3 counts takes over at the end of the
 * period or half cycle: at most one count (65536 clocks) after the write,
 * at position 0 or at the new count's high half (mode 3). */
static void check_switch(struct vdev_state_reader *r, const struct vpit_counter *c, unsigned i,
			 uint64_t irq_tick)
{
	unsigned mode = mode_of(c);
	bool bad_digit;
	uint32_t n = vpit_count(c->cr, c->control & 1, &bad_digit);

	if (!c->switch_pending)
		return;
	vdev_state_check(r, c->state == VPIT_RUNNING && (mode == 2 || mode == 3),
			 "counter %u switch_pending in state %u, mode %u", i, c->state, mode);
	vdev_state_check(r, c->switch_tick > irq_tick && c->switch_tick - irq_tick <= MAX_COUNT,
			 "counter %u switch_tick %llu: not within a count after irq_tick %llu", i,
			 (unsigned long long)c->switch_tick, (unsigned long long)irq_tick);
	vdev_state_check(r, c->switch_s0 == 0 || (mode == 3 && c->switch_s0 == (n + 1) / 2),
			 "counter %u switch_s0 %llu: not 0 or mode 3's high half of the count", i,
			 (unsigned long long)c->switch_s0);
}

/* Clocks: a count loads on the clock after its write (load_tick); a
 * sequence position is at most a half count ahead of the clocks elapsed;
 * "null count" lasts until the next load, or forever (UINT64_MAX) until
 * a count or trigger comes. */
static void check_times(struct vdev_state_reader *r, const struct vpit_counter *c, unsigned i,
			uint64_t irq_tick)
{
	vdev_state_check(r, c->load_tick <= irq_tick + 1,
			 "counter %u load_tick %llu: after irq_tick %llu + 1", i,
			 (unsigned long long)c->load_tick, (unsigned long long)irq_tick);
	vdev_state_check(r, c->s0 <= irq_tick + 1 + MAX_HALF,
			 "counter %u s0 %llu: past irq_tick %llu + 1 + 32768", i,
			 (unsigned long long)c->s0, (unsigned long long)irq_tick);
	vdev_state_check(r, c->null_until == UINT64_MAX || c->null_until <= irq_tick + MAX_COUNT,
			 "counter %u null_until %llu: past irq_tick %llu + 65536", i,
			 (unsigned long long)c->null_until, (unsigned long long)irq_tick);
}

/* Gates 0 and 1 are tied high; gate 2 is port B bit 0, the only input. */
static void check_gate(struct vdev_state_reader *r, const struct vpit *p, unsigned i)
{
	bool want = i < 2 ? true : (p->port_b & 1);

	vdev_state_check(r, p->ch[i].gate == want, "counter %u gate %u: %s", i, p->ch[i].gate,
			 i < 2 ? "tied high on a PC" : "port_b bit 0 says otherwise");
}

int vpit_load(struct vpit *pit, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vpit next = *pit; /* wiring and counters stay */

	if (!vdev_state_begin(&r, "vpit", buf, len, VPIT_STATE_SIZE, err, errlen))
		return -1;
	for (unsigned i = 0; i < 3; i++)
		get_counter(&r, &next.ch[i], i);
	next.port_b = wget8(&r.c);
	next.irq_tick = wget64(&r.c);
	if (vdev_state_end(&r))
		return -1;
	/* The largest PIT clock a VM clock can name: the other bounds add to it. */
	if (!vdev_state_check(&r, next.irq_tick <= vpit_tick(UINT64_MAX),
			      "irq_tick %llu: past the VM clock's range",
			      (unsigned long long)next.irq_tick))
		return vdev_state_end(&r);
	vdev_state_check(&r, !(next.port_b & ~PORT_B_WRITABLE),
			 "port_b 0x%02x: bits 7-4 are not stored", next.port_b);
	for (unsigned i = 0; i < 3; i++) {
		check_control(&r, &next.ch[i], i);
		check_gate(&r, &next, i);
		check_state(&r, &next.ch[i], i);
		check_switch(&r, &next.ch[i], i, next.irq_tick);
		check_times(&r, &next.ch[i], i, next.irq_tick);
	}
	if (vdev_state_end(&r))
		return -1;
	*pit = next;
	return 0;
}
