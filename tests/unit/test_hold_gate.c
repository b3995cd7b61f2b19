/* The hold hand-over (hv/lib/hold_gate.h): each step on its own, then
 * both sides on two host threads, where the x86 store buffer can reorder
 * a store before a later load unless the atomics forbid it. The invariant
 * is the shootdown's: the holder never changes the VM while its CPU is in
 * the guest, and that CPU never enters the guest with vCPUs it loaded
 * before a change. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>

#include "hv/lib/hold_gate.h"

enum { OWNER = 3, HOLDS = 20000, MIN_ENTRIES = 1000 };

Test(hold_gate, a_held_vm_is_not_claimed)
{
	struct hold_gate g;

	hold_gate_init(&g);
	cr_assert(hold_gate_claim(&g, OWNER));
	hold_gate_leave(&g);
	hold_gate_hold(&g);
	cr_assert(!hold_gate_claim(&g, OWNER), "claimed under a hold");
	hold_gate_leave(&g);
	hold_gate_release(&g);
	cr_assert(hold_gate_claim(&g, OWNER));
}

Test(hold_gate, the_holder_waits_until_the_owner_has_put_down_and_left)
{
	struct hold_gate g;

	hold_gate_init(&g);
	cr_assert(hold_gate_claim(&g, OWNER));
	hold_gate_set_loaded(&g, OWNER);
	hold_gate_hold(&g);
	cr_assert(!hold_gate_let_go(&g, OWNER), "running and loaded");
	cr_assert(hold_gate_must_put_down(&g, OWNER));
	hold_gate_set_loaded(&g, HOLD_GATE_NO_CPU);
	cr_assert(!hold_gate_let_go(&g, OWNER), "put down but still claimed");
	hold_gate_leave(&g);
	cr_assert(hold_gate_let_go(&g, OWNER));
}

Test(hold_gate, loaded_but_not_running_still_keeps_the_holder_waiting)
{
	struct hold_gate g;

	hold_gate_init(&g);
	hold_gate_set_loaded(&g, OWNER); /* a halted guest: left, vCPUs loaded */
	hold_gate_hold(&g);
	cr_assert(!hold_gate_let_go(&g, OWNER));
	cr_assert(!hold_gate_claim(&g, OWNER));
	cr_assert(hold_gate_must_put_down(&g, OWNER));
	hold_gate_set_loaded(&g, HOLD_GATE_NO_CPU);
	hold_gate_leave(&g);
	cr_assert(hold_gate_let_go(&g, OWNER));
}

Test(hold_gate, nothing_is_put_down_without_a_hold_or_loaded_elsewhere)
{
	struct hold_gate g;

	hold_gate_init(&g);
	hold_gate_set_loaded(&g, OWNER);
	cr_assert(!hold_gate_must_put_down(&g, OWNER));
	hold_gate_hold(&g);
	cr_assert(!hold_gate_must_put_down(&g, OWNER + 1));
	hold_gate_hold(&g);
	hold_gate_release(&g);
	cr_assert(hold_gate_held(&g), "two holds, one released");
	hold_gate_release(&g);
	cr_assert(!hold_gate_held(&g));
}

/* Both sides at once. */
struct race {
	struct hold_gate gate;
	int in_guest, changing, done;
	unsigned changes;          /* the holder's changes to the VM */
	unsigned loaded_at_change; /* `changes` when the owner last loaded */
	unsigned overlaps, stale_entries, turns, entries;
	unsigned holds;            /* changes when the holder stopped */
};

static void owner_turn(struct race *r)
{
	struct hold_gate *g = &r->gate;

	r->turns++;
	if (!hold_gate_claim(g, OWNER)) {
		if (hold_gate_loaded_on(g, OWNER))
			hold_gate_set_loaded(g, HOLD_GATE_NO_CPU);
		hold_gate_leave(g);
		return;
	}
	if (!hold_gate_loaded_on(g, OWNER)) { /* a load drops cached translations */
		r->loaded_at_change = __atomic_load_n(&r->changes, __ATOMIC_SEQ_CST);
		hold_gate_set_loaded(g, OWNER);
	}
	__atomic_store_n(&r->in_guest, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->changing, __ATOMIC_SEQ_CST))
		r->overlaps++;
	if (__atomic_load_n(&r->changes, __ATOMIC_SEQ_CST) != r->loaded_at_change)
		r->stale_entries++;
	__atomic_fetch_add(&r->entries, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 20; i++)
		__asm__ volatile("pause");
	__atomic_store_n(&r->in_guest, 0, __ATOMIC_SEQ_CST);
	if (hold_gate_must_put_down(g, OWNER))
		hold_gate_set_loaded(g, HOLD_GATE_NO_CPU);
	hold_gate_leave(g);
}

static void *owner(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->done, __ATOMIC_SEQ_CST))
		owner_turn(r);
	return NULL;
}

static void *holder(void *arg)
{
	struct race *r = arg;

	/* HOLDS holds, and on until the owner has entered often enough: on a
	 * loaded host its thread may not be scheduled for a while. */
	for (int i = 0; i < HOLDS || __atomic_load_n(&r->entries, __ATOMIC_SEQ_CST) < MIN_ENTRIES;
	     i++) {
		hold_gate_hold(&r->gate);
		while (!hold_gate_let_go(&r->gate, OWNER))
			__asm__ volatile("pause");
		__atomic_store_n(&r->changing, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r->in_guest, __ATOMIC_SEQ_CST))
			r->overlaps++;
		__atomic_fetch_add(&r->changes, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&r->changing, 0, __ATOMIC_SEQ_CST);
		hold_gate_release(&r->gate);
		if (i % 16 == 0)
			sched_yield(); /* let the owner run turns unheld */
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	r->holds = __atomic_load_n(&r->changes, __ATOMIC_SEQ_CST);
	return NULL;
}

Test(hold_gate, two_cpus_never_overlap_and_every_entry_after_a_change_reloads, .timeout = 120)
{
	static struct race r;
	pthread_t o, h;

	hold_gate_init(&r.gate);
	cr_assert_eq(pthread_create(&o, NULL, owner, &r), 0);
	cr_assert_eq(pthread_create(&h, NULL, holder, &r), 0);
	pthread_join(h, NULL);
	pthread_join(o, NULL);
	cr_assert_geq(r.changes, HOLDS);
	cr_assert_eq(r.changes, r.holds);
	cr_assert_eq(r.overlaps, 0, "the holder changed the VM while it was in the guest");
	cr_assert_eq(r.stale_entries, 0, "an entry with vCPUs loaded before a change");
	cr_assert_geq(r.entries, MIN_ENTRIES, "the owner hardly entered: the race was not run");
	cr_log_info("hold_gate race: %u turns, %u entries, %u changes", r.turns, r.entries,
		    r.changes);
}
