#include "hv/mce/mce_rendezvous.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define ADD(x) __atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

void mce_rv_init(struct mce_rendezvous *rv, uint32_t expected, uint64_t timeout_ns,
		 mce_rv_clock now)
{
	rv->expected = expected;
	rv->timeout_ns = timeout_ns;
	rv->now = now;
	rv->last_monarch = -1;
}

/* Spins until *counter reaches want or the round's deadline; false when
 * the deadline came first. */
static bool wait_for(const struct mce_rendezvous *rv, const uint32_t *counter, uint32_t want,
		     uint64_t deadline)
{
	while (LOAD(*counter) < want) {
		if (rv->now() >= deadline)
			return false;
		__builtin_ia32_pause();
	}
	return true;
}

struct mce_rv_ticket mce_rv_call_in(struct mce_rendezvous *rv, int32_t cpu)
{
	struct mce_rv_ticket t = { .generation = LOAD(rv->generation), .cpu = cpu };

	t.order = ADD(rv->callin);
	if (!wait_for(rv, &rv->callin, rv->expected, rv->now() + rv->timeout_ns) && t.order == 1)
		ADD(rv->timeouts);
	t.arrived = LOAD(rv->callin);
	if (t.order == 1) {
		rv->last_monarch = cpu;
		rv->last_expected = rv->expected;
		rv->last_arrived = t.arrived;
		ADD(rv->rounds);
	}
	return t;
}

bool mce_rv_scanned(struct mce_rendezvous *rv, const struct mce_rv_ticket *t, bool fatal)
{
	if (fatal)
		ADD(rv->fatal);
	ADD(rv->scanned);
	/* Those that called in later than this one are waited for too, as far
	 * as it saw them. */
	wait_for(rv, &rv->scanned, t->arrived, rv->now() + rv->timeout_ns);
	return LOAD(rv->fatal) != 0;
}

void mce_rv_leave(struct mce_rendezvous *rv, const struct mce_rv_ticket *t)
{
	uint64_t deadline = rv->now() + rv->timeout_ns;

	if (t->order != 1) {
		ADD(rv->left);
		while (LOAD(rv->generation) == t->generation && rv->now() < deadline)
			__builtin_ia32_pause();
		return;
	}
	/* The monarch: everyone else that came leaves first (re-read: a late
	 * CPU counts too), then the counters start again from zero. */
	while (LOAD(rv->left) + 1 < LOAD(rv->callin) && rv->now() < deadline)
		__builtin_ia32_pause();
	rv->last_arrived = LOAD(rv->callin);
	__atomic_store_n(&rv->fatal, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rv->scanned, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rv->left, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rv->callin, 0, __ATOMIC_SEQ_CST);
	ADD(rv->generation);
}
