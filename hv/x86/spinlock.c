#include "hv/x86/spinlock.h"

#include "hv/x86/cpu.h"
#include "hv/x86/lapic.h"
#include "hv/x86/percpu.h"
#include "hv/x86/trap.h"

#ifndef LOCK_CHECK
#define LOCK_CHECK 1
#endif
#ifndef LOCK_SLEEP
#define LOCK_SLEEP 1
#endif

/* Spins before spin_lock_or_break gives up on the holder: seconds. */
#define BREAK_AFTER_SPINS 100000000u

/* A waiter for an unfair lock spins this long (TSC cycles: 50 us at
 * 2.6 GHz) before it sleeps until the holder lets go. On hardware a hold
 * is far shorter; a longer wait means the holder is not running: a CPU
 * thread the host descheduled, under an emulator with more CPUs than host
 * cores. Spinning there takes the host core the holder needs, and with
 * every CPU spinning the machine can stay that way (seen: four CPUs
 * each waiting 95 % of the time, under TCG with four CPUs on two cores). */
#define SLEEP_AFTER_TSC (1ull << 17)

_Static_assert(CPU_MAX <= 64 * SPIN_SLEEPER_WORDS, "a sleeper bit for every CPU");

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

static void count_wait(const struct spinlock *l, uint64_t since)
{
	struct percpu *c = this_cpu();
	uint64_t waited = rdtsc() - since;

	c->lock_wait_tsc += waited;
	if (waited > c->longest_lock_wait_tsc) {
		c->longest_lock_wait_tsc = waited;
		c->longest_lock_wait_name = l->name;
	}
}

static bool is_free(const struct spinlock *l)
{
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) ==
	       __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
}

/* The bit set and the unlock's release are both locked operations: either
 * the unlock sees the bit and wakes this CPU, or this CPU sees the lock
 * free and does not sleep. The timer tick bounds a sleep anyway. */
static void sleep_until_let_go(struct spinlock *l)
{
	uint32_t self = this_cpu_index();
	uint64_t bit = 1ull << (self % 64);
	uint64_t *word = &l->sleepers[self / 64];

	__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
	if (!is_free(l)) {
		cpu_idle();
		this_cpu()->lock_sleeps++;
	}
	__atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
}

/* Sleeping takes interrupts, as the CPU does after every guest exit: only
 * where it holds no other spinlock and is not in a trap handler (one that
 * slept would never see the timer: its vector waits for the EOI). */
static bool may_sleep(void)
{
	const struct percpu *c = this_cpu();

	return LOCK_SLEEP && LOCK_CHECK && c->locks.n == 0 && c->trap_depth == 0;
}

static void take_unfair(struct spinlock *l, bool may_sleep)
{
	if (take_if_free(l))
		return;
	uint64_t t0 = rdtsc();
	uint64_t spin_from = t0;

	do {
		cpu_relax();
		if (may_sleep && rdtsc() - spin_from > SLEEP_AFTER_TSC) {
			sleep_until_let_go(l);
			spin_from = rdtsc();
		}
	} while (!take_if_free(l));
	count_wait(l, t0);
}

static void wake_sleepers(struct spinlock *l)
{
	for (unsigned w = 0; w < SPIN_SLEEPER_WORDS; w++) {
		uint64_t m = __atomic_load_n(&l->sleepers[w], __ATOMIC_RELAXED);
		for (; m; m &= m - 1) {
			const struct percpu *c = percpu_get(w * 64 + (unsigned)__builtin_ctzll(m));
			if (c)
				lapic_send_ipi(c->apic_id, LAPIC_ICR_FIXED | VEC_IPI_WAKE);
		}
	}
}

bool spin_lock_irqsave(struct spinlock *l)
{
	bool irq = irq_save();

	if (reentered(l))
		return irq;
	check_order(l);
	if (l->unfair) {
		take_unfair(l, may_sleep());
		note_taken(l);
		return irq;
	}
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		uint64_t t0 = rdtsc();
		while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
			cpu_relax();
		count_wait(l, t0);
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
	if (l->unfair) {
		__atomic_fetch_add(&l->serving, 1, __ATOMIC_SEQ_CST);
		wake_sleepers(l);
	} else {
		__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
	}
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
