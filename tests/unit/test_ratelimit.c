/* The token bucket behind the console's log rate limit. */
#include <criterion/criterion.h>

#include "hv/lib/ratelimit.h"

#define MS 1000000ull

Test(ratelimit, a_burst_then_the_rate)
{
	struct ratelimit r = { .burst = 5, .per_sec = 10 };
	uint64_t t = 7 * MS;

	for (int i = 0; i < 5; i++)
		cr_assert(ratelimit_take(&r, t), "burst %d", i);
	cr_assert_not(ratelimit_take(&r, t));
	cr_assert_not(ratelimit_take(&r, t + 99 * MS), "10 a second: one per 100 ms");
	cr_assert(ratelimit_take(&r, t + 100 * MS));
	cr_assert_not(ratelimit_take(&r, t + 150 * MS));
	/* A long pause refills to the burst, no further. */
	int n = 0;
	while (ratelimit_take(&r, t + 3600 * 1000 * MS))
		n++;
	cr_assert_eq(n, 5);
}

Test(ratelimit, sub_millisecond_calls_still_add_up)
{
	struct ratelimit r = { .burst = 1, .per_sec = 1000 };
	uint64_t t = 0;

	cr_assert(ratelimit_take(&r, t));
	int allowed = 0;
	for (int i = 1; i <= 100; i++) /* every 0.1 ms for 10 ms */
		allowed += ratelimit_take(&r, t + (uint64_t)i * MS / 10);
	cr_assert_eq(allowed, 10);
	cr_assert_not(ratelimit_take(&r, 0), "time going back adds nothing");
}
