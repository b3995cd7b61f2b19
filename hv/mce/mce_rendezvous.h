/* The rendezvous of a broadcast machine check. On Intel, unless the error
 * was signalled to one logical processor only (MCG_STATUS.LMCE_S), every
 * CPU takes the same #MC. Each runs, in its #MC handler (or on its #MC VM
 * exit):
 *
 *   mce_rv_call_in  count itself in (the first is the monarch) and wait
 *                   until every CPU expected has, or the timeout passed
 *   ... read and clear its own banks, judge them (mce_severity.h) ...
 *   mce_rv_scanned  say whether its verdict is fatal and wait until every
 *                   CPU that called in has said; the answer: is any fatal
 *   mce_rv_leave    (when it goes on) the monarch waits for the others to
 *                   leave and opens the next round; they wait for that, so
 *                   none joins the next round while this one closes
 *
 * So the machine has one verdict: when any CPU's is fatal, that CPU panics
 * (mca.c elects one if several are) and the others stop where they are,
 * instead of resuming into a machine that is going down. Uncorrected
 * errors that allow going on are queued by each CPU and acted on once, by
 * the main loop. A CPU that does not come (inside a guest on a platform
 * that hands it the #MC, or wedged) costs the others the timeout, once per
 * round, and is counted. No MSR access here: host-tested on threads. */
#ifndef HV_MCE_MCE_RENDEZVOUS_H
#define HV_MCE_MCE_RENDEZVOUS_H

#include <stdbool.h>
#include <stdint.h>

/* Long enough for a CPU in a guest to exit and come (microseconds on
 * hardware, milliseconds under TCG); short enough that a CPU that never
 * comes does not stall the others for long with interrupts off. */
#define MCE_RV_TIMEOUT_NS 200000000ull

typedef uint64_t (*mce_rv_clock)(void);

struct mce_rendezvous {
	uint32_t expected;   /* CPUs that take a broadcast #MC: those online */
	uint64_t timeout_ns;
	mce_rv_clock now;
	/* This round (atomics). */
	uint32_t callin, scanned, left, fatal;
	uint32_t generation; /* the monarch counts it up to open the next round */
	/* Records, for `mce`. */
	uint32_t rounds, timeouts, last_arrived, last_expected;
	int32_t last_monarch;
};

struct mce_rv_ticket {
	uint32_t order;      /* 1: the monarch */
	uint32_t arrived;    /* CPUs in when this one stopped waiting */
	uint32_t generation;
	int32_t cpu;
};

/* @pre rv zeroed; expected >= 1; now returns nanoseconds */
void mce_rv_init(struct mce_rendezvous *rv, uint32_t expected, uint64_t timeout_ns,
		 mce_rv_clock now);
struct mce_rv_ticket mce_rv_call_in(struct mce_rendezvous *rv, int32_t cpu);
/* @return whether any CPU of the round found a fatal error */
bool mce_rv_scanned(struct mce_rendezvous *rv, const struct mce_rv_ticket *t, bool fatal);
/* @pre mce_rv_scanned returned false for this ticket (nobody panics) */
void mce_rv_leave(struct mce_rendezvous *rv, const struct mce_rv_ticket *t);

#endif
