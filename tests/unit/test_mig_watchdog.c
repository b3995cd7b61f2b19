/* The receiving side's patience (migrate/mig_watchdog.c): deadline phases
 * end on time, rate phases need min_rate bytes a second per window, and a
 * trickle that used to reset an idle timer for ever no longer does. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/core/time.h"
#include "migrate/mig_watchdog.h"

#define S NS_PER_SEC

static const struct mig_limits lim = { .phase_ns = 30 * S, .window_ns = 20 * S,
				       .min_rate = 4096 };
static char why[160];

Test(mig_watchdog, a_deadline_phase_ends_on_time_whatever_arrives)
{
	struct mig_watchdog w;

	mig_watchdog_phase(&w, "the stream's start", false, 100 * S, 0, 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 129 * S, 1, 0, why, sizeof(why)), 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 130 * S, 50, 0, why, sizeof(why)), 0);
	/* Bytes keep coming, but the phase never ends. */
	cr_assert_eq(mig_watchdog_check(&w, &lim, 131 * S, 99, 0, why, sizeof(why)), -1);
	cr_assert(strstr(why, "the stream's start took longer than 30 s"), "%s", why);
}

Test(mig_watchdog, a_trickle_is_cut_after_one_window)
{
	struct mig_watchdog w;
	uint64_t in = 1000;

	mig_watchdog_phase(&w, "the transfer", true, 0, in, 10);
	for (uint64_t t = 1; t < 20; t++)
		cr_assert_eq(mig_watchdog_check(&w, &lim, t * S, ++in, 10, why, sizeof(why)), 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 20 * S, ++in, 10, why, sizeof(why)), -1);
	cr_assert(strstr(why, "20 bytes in 20 s") && strstr(why, "migrate_min_rate=4096"), "%s",
		  why);
}

Test(mig_watchdog, a_steady_peer_goes_on_for_as_long_as_it_takes)
{
	struct mig_watchdog w;
	uint64_t in = 0;

	mig_watchdog_phase(&w, "the transfer", true, 0, 0, 0);
	for (uint64_t t = 1; t <= 3600; t++) {
		in += 4096; /* exactly the minimum */
		cr_assert_eq(mig_watchdog_check(&w, &lim, t * S, in, 0, why, sizeof(why)), 0,
			     "at %lu s: %s", (unsigned long)t, why);
	}
}

Test(mig_watchdog, silence_is_named_as_such)
{
	struct mig_watchdog w;

	mig_watchdog_phase(&w, "the transfer", true, 0, 500, 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 25 * S, 500, 0, why, sizeof(why)), -1);
	cr_assert(strstr(why, "nothing from the peer for 25 s during the transfer"), "%s", why);
}

Test(mig_watchdog, our_own_answer_restarts_the_window)
{
	struct mig_watchdog w;

	/* This side checks a fragment for a while and says so: the peer
	 * waits for that, and is not blamed for the quiet. */
	mig_watchdog_phase(&w, "the transfer", true, 0, 0, 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 19 * S, 0, 64, why, sizeof(why)), 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 38 * S, 0, 64, why, sizeof(why)), 0);
	cr_assert_eq(mig_watchdog_check(&w, &lim, 39 * S, 0, 64, why, sizeof(why)), -1);
}

Test(mig_watchdog, min_rate_zero_cuts_only_silence)
{
	struct mig_watchdog w;
	struct mig_limits idle_only = lim;

	idle_only.min_rate = 0;
	mig_watchdog_phase(&w, "the transfer", true, 0, 0, 0);
	cr_assert_eq(mig_watchdog_check(&w, &idle_only, 20 * S, 1, 0, why, sizeof(why)), 0);
	cr_assert_eq(mig_watchdog_check(&w, &idle_only, 40 * S, 1, 0, why, sizeof(why)), -1);
}
