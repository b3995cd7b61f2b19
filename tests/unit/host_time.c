/* time_ns() for the host build (the unit tests): the monotonic clock, plus
 * a skew that tests advance to make time pass without waiting. */
#include <time.h>

#include "hv/core/time.h"

uint64_t host_time_skew_ns;

uint64_t time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec + host_time_skew_ns;
}
