/* The scheduler's decision (hv/vm/sched_policy.c) against a fake clock:
 * the TSC runs at 1 GHz (one tick per ns), the host tick is 1 ms, and the
 * VMs are simulated as vm_run would run them: a spinner runs until its
 * deadline or the next host tick, a timer guest handles its interrupt in
 * 50 us and halts again. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/sched_policy.h"

#define VMS 32
#define US 1000ull
#define MS 1000000ull
#define SLICE (SCHED_SLICE_MS * MS)

struct sim_vm {
	bool present, running, halted, spins;
	unsigned throttle_pct;
	uint64_t wake_at[4]; /* when its next interrupts become due */
	unsigned nwake, next_wake;
	uint64_t ran;        /* ns of CPU time */
	unsigned runs;
};

static struct sim_vm world[VMS];
static struct sched s;
static uint64_t now;
static unsigned wake_calls, idle_ms;
static struct sched_choice last; /* the decision step() ran */

static void setup(void)
{
	memset(world, 0, sizeof(world));
	memset(&s, 0, sizeof(s));
	now = 0;
	wake_calls = idle_ms = 0;
}

TestSuite(sched, .init = setup);

static void spinner(unsigned slot, unsigned throttle_pct)
{
	world[slot] = (struct sim_vm){ .present = true, .running = true, .spins = true,
				       .throttle_pct = throttle_pct };
}

static void timer_guest(unsigned slot, uint64_t first_wake)
{
	world[slot] = (struct sim_vm){ .present = true, .running = true, .halted = true,
				       .wake_at = { first_wake }, .nwake = 1 };
}

/* vm_wake_if_due: the interrupt is due, so the vCPU leaves HLT. */
static bool sim_wake(void *ctx, unsigned slot)
{
	struct sim_vm *v = &world[slot];

	(void)ctx;
	wake_calls++;
	cr_assert(v->present && v->halted, "asked about slot %u, which is not halted", slot);
	if (v->next_wake < v->nwake && v->wake_at[v->next_wake] <= now) {
		v->next_wake++;
		v->halted = false;
		return true;
	}
	return false;
}

static struct sched_choice choose(void)
{
	struct sched_vm view[VMS];

	for (unsigned i = 0; i < VMS; i++)
		view[i] = (struct sched_vm){ world[i].present && world[i].running, world[i].halted,
					     world[i].throttle_pct };
	struct sched_clock clock = { now, now / MS, SLICE };
	return sched_choose(&s, view, VMS, &clock, sim_wake, NULL);
}

/* One pass of the main loop's scheduler poller; returns the slot that ran
 * or SCHED_IDLE (the CPU then sleeps to the next tick). */
static int step(void)
{
	struct sched_choice c = last = choose();
	uint64_t tick = (now / MS + 1) * MS;

	if (c.slot == SCHED_IDLE) {
		now = tick;
		idle_ms++;
		return SCHED_IDLE;
	}
	struct sim_vm *v = &world[c.slot];
	uint64_t end = v->spins ? (c.until < tick ? c.until : tick) : now + 50 * US;
	cr_assert_gt(end, now, "slot %d chosen with nothing to run (until %lu, now %lu)", c.slot,
		     (unsigned long)c.until, (unsigned long)now);
	if (!v->spins)
		v->halted = true; /* handled its interrupt, HLT again */
	v->ran += end - now;
	v->runs++;
	now = end;
	return c.slot;
}

/* Runs whole milliseconds; records who held each one. */
static void run_ms(unsigned ms, int *who)
{
	for (unsigned i = 0; i < ms; i++) {
		uint64_t start = now;
		who[i] = step();
		cr_assert_eq(now, start + MS, "ms %u took %lu ns", i, (unsigned long)(now - start));
	}
}

Test(sched, round_robin_in_slot_order_a_slice_each)
{
	int who[90];

	spinner(0, 0);
	spinner(2, 0);
	spinner(5, 0);
	run_ms(90, who);
	/* The first slice starts after slot 0, the initial current. */
	static const int order[] = { 2, 5, 0, 2, 5, 0, 2, 5, 0 };
	for (unsigned i = 0; i < 90; i++)
		cr_assert_eq(who[i], order[i / 10], "ms %u: slot %d, expected %d", i, who[i],
			     order[i / 10]);
	cr_assert_eq(world[0].ran, 30 * MS);
	cr_assert_eq(world[2].ran, 30 * MS);
	cr_assert_eq(world[5].ran, 30 * MS);
	cr_assert_eq(wake_calls, 0, "nobody halted: nobody asked");
}

Test(sched, a_slice_lasts_10_ms_then_expires)
{
	spinner(1, 0);
	spinner(3, 0);
	struct sched_choice c = choose();
	cr_assert_eq(c.slot, 1);
	cr_assert_eq(c.until, 10 * MS, "a slice from 0");
	now = 9 * MS + 999999;
	c = choose();
	cr_assert_eq(c.slot, 1, "1 ns before the end: still its slice");
	cr_assert_eq(c.until, 10 * MS, "the same deadline, not a new slice");
	now = 10 * MS;
	c = choose();
	cr_assert_eq(c.slot, 3);
	cr_assert_eq(c.until, 20 * MS);
	now = 31 * MS; /* late: the next slice starts from now */
	c = choose();
	cr_assert_eq(c.slot, 1);
	cr_assert_eq(c.until, 41 * MS);
}

Test(sched, a_lone_vm_gets_slice_after_slice)
{
	int who[35];

	spinner(7, 0);
	run_ms(35, who);
	for (unsigned i = 0; i < 35; i++)
		cr_assert_eq(who[i], 7);
	cr_assert_eq(s.current, 7);
	cr_assert_eq(s.slice_end, 40 * MS);
}

/* A timer guest's interrupt comes due at 13.5 ms, in slot 0's slice
 * (10-20 ms): it runs at the next host tick, then slot 0's slice carries
 * on to its old end. */
Test(sched, a_woken_vm_runs_at_once_and_the_slice_carries_on)
{
	spinner(0, 0);
	spinner(1, 0);
	timer_guest(2, 13 * MS + 500 * US);

	while (now < 14 * MS)
		step();
	cr_assert_eq(world[2].runs, 0, "not due before 13.5 ms");
	cr_assert_eq(s.current, 0);
	cr_assert_eq(s.slice_end, 20 * MS);

	cr_assert_eq(step(), 2, "woken at the first tick after it came due");
	cr_assert_eq(last.until, 24 * MS, "at most a slice");
	cr_assert_eq(now, 14 * MS + 50 * US, "ran until it halted");
	cr_assert_eq(s.current, 0, "the woken VM does not take over the slice");
	cr_assert_eq(s.slice_end, 20 * MS);
	cr_assert_eq(step(), 0, "slot 0's slice resumes");
	cr_assert_eq(last.until, 20 * MS);
	while (now < 20 * MS)
		cr_assert_eq(step(), 0);
	cr_assert_eq(step(), 1, "then round robin as before");
	cr_assert_eq(world[0].ran, 10 * MS - 50 * US);
	cr_assert_eq(world[2].ran, 50 * US);
}

Test(sched, a_woken_vm_is_found_wherever_it_is_in_the_order)
{
	spinner(4, 0);
	timer_guest(1, 5 * MS); /* before the current slot */
	timer_guest(9, 5 * MS); /* after it: found first from slot 4 */

	cr_assert_eq(step(), 4);
	now = 5 * MS;
	cr_assert_eq(step(), 9);
	cr_assert_eq(step(), 1, "the other woken VM next");
	struct sched_choice c = choose();
	cr_assert_eq(c.slot, 4);
	cr_assert_eq(c.until, 10 * MS);
}

Test(sched, halted_vms_without_an_interrupt_never_run)
{
	int who[20];

	spinner(0, 0);
	timer_guest(1, UINT64_MAX);
	run_ms(20, who);
	for (unsigned i = 0; i < 20; i++)
		cr_assert_eq(who[i], 0);
	cr_assert_eq(world[1].runs, 0);
	cr_assert_gt(wake_calls, 0, "it was asked about");
}

/* Throttled VMs sit out the first throttle_pct ms of every 100 ms. */
Test(sched, a_lone_throttled_vm_gets_the_rest_of_each_100_ms)
{
	int who[1000];

	spinner(3, 40);
	run_ms(1000, who);
	for (unsigned i = 0; i < 1000; i++)
		cr_assert_eq(who[i], i % 100 < 40 ? SCHED_IDLE : 3, "ms %u: %d", i, who[i]);
	cr_assert_eq(world[3].ran, 600 * MS);
	cr_assert_eq(idle_ms, 400);
}

Test(sched, throttling_shares_over_one_second)
{
	int who[1000];

	spinner(0, 0);
	spinner(1, 40);
	spinner(2, 90);
	run_ms(1000, who);
	for (unsigned i = 0; i < 1000; i++) {
		cr_assert(who[i] != 1 || i % 100 >= 40, "slot 1 ran at ms %u, throttled", i);
		cr_assert(who[i] != 2 || i % 100 >= 90, "slot 2 ran at ms %u, throttled", i);
	}
	/* Per 100 ms: 0-39 slot 0 alone; then 10 ms slices in turn, each
	 * going to the next slot after the last one that may run: 1 (40),
	 * 0 (50: slot 2 still sits out), 1 (60), 0 (70), 1 (80), 2 (90). */
	static const int per_slice[] = { 0, 0, 0, 0, 1, 0, 1, 0, 1, 2 };
	for (unsigned i = 0; i < 1000; i++)
		cr_assert_eq(who[i], per_slice[i % 100 / 10], "ms %u: %d", i, who[i]);
	cr_assert_eq(world[0].ran, 600 * MS);
	cr_assert_eq(world[1].ran, 300 * MS);
	cr_assert_eq(world[2].ran, 100 * MS);
	cr_assert_eq(idle_ms, 0);
}

Test(sched, throttling_ends_a_slice_that_reaches_into_the_window)
{
	spinner(0, 0);
	spinner(1, 30);
	now = 95 * MS; /* slot 1's slice from 95 ms would run to 105 */
	s.current = 0;
	s.slice_end = 95 * MS;
	cr_assert_eq(step(), 1);
	cr_assert_eq(s.slice_end, 105 * MS);
	while (now < 100 * MS)
		cr_assert_eq(step(), 1);
	cr_assert_eq(step(), 0, "at 100 ms slot 1 sits out, mid-slice");
	cr_assert_eq(s.slice_end, 110 * MS);
}

Test(sched, nothing_runnable_is_idle)
{
	struct sched_choice c = choose();
	cr_assert_eq(c.slot, SCHED_IDLE, "no VMs");

	spinner(0, 0);
	world[0].running = false; /* created, paused, stopped or crashed */
	spinner(6, 90);
	timer_guest(8, 50 * MS);
	now = 20 * MS;
	c = choose();
	cr_assert_eq(c.slot, SCHED_IDLE, "paused, throttled and halted");
	cr_assert_eq(world[8].halted, true);

	now = 50 * MS;
	c = choose();
	cr_assert_eq(c.slot, 8, "its interrupt came due");
	cr_assert_eq(world[8].halted, false);
}

Test(sched, a_throttled_halted_vm_is_not_asked_about_or_woken)
{
	timer_guest(2, 0);
	world[2].throttle_pct = 50;
	now = 10 * MS;
	cr_assert_eq(choose().slot, SCHED_IDLE);
	cr_assert_eq(wake_calls, 0);
	cr_assert(world[2].halted);
	now = 60 * MS;
	cr_assert_eq(choose().slot, 2);
	cr_assert_eq(wake_calls, 1);
}
