/* The broadcast #MC rendezvous (hv/mce/mce_rendezvous.h), its CPUs played
 * by host threads: one monarch a round, every CPU waits for the others'
 * scans, one fatal verdict reaches all, a CPU that never comes costs one
 * timeout, and round after round the counters start clean. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "hv/mce/mce_rendezvous.h"

#define CPUS 4
#define ROUNDS 300

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct mce_rendezvous rv;
static pthread_barrier_t between_rounds;

struct cpu {
	int32_t index;
	uint32_t monarch_rounds, full_arrivals, fatal_seen;
	int fatal_round; /* this CPU's verdict is fatal in that round (-1: never) */
	uint32_t scans_seen_short; /* rounds in which scanned returned before all scanned */
};

static uint32_t scans_this_round[ROUNDS];

static void *play(void *arg)
{
	struct cpu *c = arg;

	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&between_rounds);
		struct mce_rv_ticket t = mce_rv_call_in(&rv, c->index);
		if (t.order == 1)
			c->monarch_rounds++;
		if (t.arrived == CPUS)
			c->full_arrivals++;
		__atomic_add_fetch(&scans_this_round[r], 1, __ATOMIC_SEQ_CST);
		bool any = mce_rv_scanned(&rv, &t, r == c->fatal_round);
		if (__atomic_load_n(&scans_this_round[r], __ATOMIC_SEQ_CST) != CPUS)
			c->scans_seen_short++;
		if (any)
			c->fatal_seen++;
		/* mca.c stops or panics on a fatal round; here all go on, so
		 * the counters are checked round after round. */
		mce_rv_leave(&rv, &t);
	}
	return NULL;
}

Test(mce_rendezvous, every_round_has_one_monarch_and_one_verdict)
{
	struct cpu cpus[CPUS];
	pthread_t th[CPUS];

	mce_rv_init(&rv, CPUS, 5000000000ull, clock_ns);
	pthread_barrier_init(&between_rounds, NULL, CPUS);
	for (int i = 0; i < CPUS; i++) {
		cpus[i] = (struct cpu){ .index = i, .fatal_round = i == 2 ? 17 : -1 };
		pthread_create(&th[i], NULL, play, &cpus[i]);
	}
	uint32_t monarchs = 0;
	for (int i = 0; i < CPUS; i++) {
		pthread_join(th[i], NULL);
		monarchs += cpus[i].monarch_rounds;
		cr_assert_eq(cpus[i].full_arrivals, ROUNDS, "cpu%d saw a round without everyone", i);
		cr_assert_eq(cpus[i].scans_seen_short, 0, "cpu%d went on before all had scanned", i);
		cr_assert_eq(cpus[i].fatal_seen, 1, "cpu%d saw %u fatal rounds", i,
			     cpus[i].fatal_seen);
	}
	cr_assert_eq(monarchs, ROUNDS, "%u monarchs in %d rounds", monarchs, ROUNDS);
	cr_assert_eq(rv.rounds, ROUNDS);
	cr_assert_eq(rv.timeouts, 0);
	cr_assert_eq(rv.generation, ROUNDS);
	cr_assert_eq(rv.callin + rv.scanned + rv.left + rv.fatal, 0, "a round left counts behind");
	cr_assert_eq(rv.last_arrived, CPUS);
	pthread_barrier_destroy(&between_rounds);
}

static void *alone(void *arg)
{
	struct mce_rv_ticket t = mce_rv_call_in(&rv, *(int32_t *)arg);

	cr_assert_not(mce_rv_scanned(&rv, &t, false));
	mce_rv_leave(&rv, &t);
	return NULL;
}

Test(mce_rendezvous, a_cpu_that_never_comes_costs_one_timeout)
{
	int32_t id = 1;

	/* One of two expected comes (a thread alone: no scheduling luck). */
	mce_rv_init(&rv, 2, 50000000ull, clock_ns); /* 50 ms */
	uint64_t t0 = clock_ns();
	struct mce_rv_ticket t = mce_rv_call_in(&rv, id);
	uint64_t t1 = clock_ns();
	cr_assert_not(mce_rv_scanned(&rv, &t, false));
	mce_rv_leave(&rv, &t);
	uint64_t t2 = clock_ns();
	cr_assert_eq(rv.timeouts, 1);
	cr_assert_eq(rv.last_arrived, 1);
	cr_assert_eq(rv.last_expected, 2);
	cr_assert_eq(rv.last_monarch, 1);
	cr_assert(t1 - t0 >= 50000000ull, "waited %lu ns", (unsigned long)(t1 - t0));
	/* One timeout, not one per phase: it scans and leaves without waiting
	 * for the CPU that did not come. */
	cr_assert(t2 - t1 < 40000000ull, "then %lu ns", (unsigned long)(t2 - t1));
	cr_assert_eq(rv.callin + rv.scanned + rv.left, 0, "the next round starts clean");
	cr_assert_eq(rv.generation, 1);
}

Test(mce_rendezvous, one_cpu_alone_is_its_own_monarch_at_once)
{
	int32_t id = 5;

	mce_rv_init(&rv, 1, 5000000000ull, clock_ns);
	uint64_t t0 = clock_ns();
	alone(&id);
	cr_assert(clock_ns() - t0 < 1000000000ull);
	cr_assert_eq(rv.last_monarch, 5);
	cr_assert_eq(rv.timeouts, 0);
}
