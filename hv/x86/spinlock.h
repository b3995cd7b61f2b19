/* Ticket spinlocks that keep interrupts off while held (the timer tick and
 * #MC handler share data with the code they interrupt), with the nesting
 * rule of hv/lib/lock_order.h checked on every acquisition unless built
 * with LOCK_CHECK=0. */
#ifndef HV_X86_SPINLOCK_H
#define HV_X86_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/lib/lock_order.h"

#define SPIN_SLEEPER_WORDS 4 /* CPU_MAX bits */

struct spinlock {
	uint32_t next;    /* the next ticket handed out */
	uint32_t serving; /* the ticket that holds the lock */
	unsigned rank;    /* enum lock_rank */
	const char *name;
	/* Re-entrant locks only (the console, whose line editor hooks write
	 * while a line is written): the holder, and how often it re-entered. */
	bool reentrant;
	uint32_t owner; /* CPU index + 1, 0 when free */
	unsigned depth;
	/* Taken by compare-and-swap when free instead of by ticket: no order
	 * among waiters, so a waiter that is not running (a CPU thread the
	 * host deschedules, under an emulator with more CPUs than host cores)
	 * holds up nobody, and a waiter that waited long sleeps instead of
	 * spinning. For locks every CPU takes at a high rate. */
	bool unfair;
	/* Unfair locks only: the CPUs asleep in HLT until it is let go (a
	 * bit per CPU index), woken by the unlock. */
	uint64_t sleepers[SPIN_SLEEPER_WORDS];
};

#define SPINLOCK_INIT(rank_, name_) { .rank = (rank_), .name = (name_) }
#define SPINLOCK_REENTRANT_INIT(rank_, name_) \
	{ .rank = (rank_), .name = (name_), .reentrant = true }
#define SPINLOCK_UNFAIR_INIT(rank_, name_) { .rank = (rank_), .name = (name_), .unfair = true }

/* Returns whether interrupts were on, for spin_unlock_irqrestore. */
bool spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on);
/* Takes the lock only if it is free now. */
bool spin_trylock_irqsave(struct spinlock *l, bool *irq_was_on);
/* For the panic path: takes the lock after a bounded wait, or breaks it
 * (its holder is this CPU, stuck, or another CPU that panicked). */
bool spin_lock_or_break(struct spinlock *l);

/* Called for a broken nesting rule, before the lock is taken (the panic
 * report, registered by hv/core); it must not return. */
typedef void (*lock_violation_fn)(const struct spinlock *taking, enum lock_verdict v,
				  const char *held);
void spin_set_violation_handler(lock_violation_fn fn);

#endif
