#include "hv/x86/spinlock.h"

#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

#ifndef LOCK_CHECK
#define LOCK_CHECK 1
#endif

/* Spins before spin_lock_or_break gives up on the holder: seconds. */
#define BREAK_AFTER_SPINS 100000000u

static lock_violation_fn on_violation;

void spin_set_violation_handler(lock_violation_fn fn)
{
	on_violation = fn;
}

static void check_order(struct spinlock *l)
{
	if (!LOCK_CHECK)
		return;
	struct lock_held *h = &this_cpu()->locks;
	unsigned culprit = 0;
	enum lock_verdict v = lock_order_check(h, l, l->rank, &culprit);

	if (v == LOCK_OK)
		return;
	if (on_violation)
		on_violation(l, v, culprit < h->n ? h->name[culprit] : "-");
	cpu_halt_forever();
}

static void note_taken(struct spinlock *l)
{
	if (l->reentrant)
		__atomic_store_n(&l->owner, this_cpu_index() + 1, __ATOMIC_RELAXED);
	if (LOCK_CHECK)
		lock_order_taken(&this_cpu()->locks, l, l->rank, l->name);
}

/* A re-entrant lock this CPU holds already: only counted. */
static bool reentered(struct spinlock *l)
{
	if (!l->reentrant || __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != this_cpu_index() + 1)
		return false;
	l->depth++;
	return true;
}

/* Free when every ticket handed out was served: take the next one then. */
static bool take_if_free(struct spinlock *l)
{
	uint32_t serving = __atomic_load_n(&l->serving, __ATOMIC_ACQUIRE);
	uint32_t expected = serving;

	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) == serving &&
	       __atomic_compare_exchange_n(&l->next, &expected, serving + 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void take_unfair(struct spinlock *l)
{
	if (take_if_free(l))
		return;
	uint64_t t0 = rdtsc();
	do
		cpu_relax();
	while (!take_if_free(l));
	this_cpu()->lock_wait_tsc += rdtsc() - t0;
}

bool spin_lock_irqsave(struct spinlock *l)
{
	bool irq = irq_save();

	if (reentered(l))
		return irq;
	check_order(l);
	if (l->unfair) {
		take_unfair(l);
		note_taken(l);
		return irq;
	}
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		uint64_t t0 = rdtsc();
		while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
			cpu_relax();
		this_cpu()->lock_wait_tsc += rdtsc() - t0;
	}
	note_taken(l);
	return irq;
}

bool spin_trylock_irqsave(struct spinlock *l, bool *irq_was_on)
{
	bool irq = irq_save();

	if (reentered(l)) {
		*irq_was_on = irq;
		return true;
	}
	check_order(l);
	if (!take_if_free(l)) {
		irq_restore(irq);
		return false;
	}
	note_taken(l);
	*irq_was_on = irq;
	return true;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on)
{
	if (l->reentrant) {
		if (l->depth) {
			l->depth--;
			irq_restore(irq_was_on);
			return;
		}
		__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	}
	if (LOCK_CHECK)
		lock_order_released(&this_cpu()->locks, l);
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
	irq_restore(irq_was_on);
}

bool spin_lock_or_break(struct spinlock *l)
{
	irq_disable();
	for (uint32_t spins = 0; spins < BREAK_AFTER_SPINS; spins++) {
		if (take_if_free(l)) {
			l->owner = this_cpu_index() + 1;
			return true;
		}
		cpu_relax();
	}
	/* Take it over: whoever held it will not release it in order. */
	__atomic_store_n(&l->serving, __atomic_load_n(&l->next, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
	__atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	l->owner = this_cpu_index() + 1;
	l->depth = 0;
	return false;
}
