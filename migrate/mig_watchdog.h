/* How long the receiving side of a transfer (a live migration, a disk
 * transfer) waits for its peer. Each phase has either a deadline (the
 * stream's start, the wait for GO: a few records that must come soon) or
 * a minimum rate (the bulk: however long the transfer, each window must
 * bring min_rate bytes a second). Any byte used to reset one idle timer,
 * so a peer trickling a byte a second held a VM's memory for ever. */
#ifndef MIGRATE_MIG_WATCHDOG_H
#define MIGRATE_MIG_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mig_limits {
	uint64_t phase_ns;  /* a deadline phase must end within this */
	uint64_t window_ns; /* a rate phase is judged over windows this long */
	uint64_t min_rate;  /* bytes a second in each window; 0: only idleness */
};

struct mig_watchdog {
	const char *phase;  /* for the reason: "the stream's start", ... */
	bool rated;
	uint64_t phase_start_ns;
	uint64_t window_start_ns, window_bytes_in, window_bytes_out;
};

/* A new phase starts now, with the byte counts so far. */
void mig_watchdog_phase(struct mig_watchdog *w, const char *phase, bool rated, uint64_t now,
			uint64_t bytes_in, uint64_t bytes_out);

/* 0 while the peer keeps up; -1 with the reason when it does not. Bytes
 * this side sent restart the window: the peer may be waiting for them
 * (an answer, a fragment being checked here).
 * @pre mig_watchdog_phase() was called */
int mig_watchdog_check(struct mig_watchdog *w, const struct mig_limits *l, uint64_t now,
		       uint64_t bytes_in, uint64_t bytes_out, char *why, size_t whylen);

/* The limits in force (settings migrate_phase_timeout, migrate_min_rate). */
void mig_limits_current(struct mig_limits *l);

#endif
