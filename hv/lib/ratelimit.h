/* A token bucket: up to 'burst' events at once, 'per_sec' a second after
 * that. Pure (the caller gives the time), so it builds for the host. */
#ifndef HV_LIB_RATELIMIT_H
#define HV_LIB_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint32_t burst, per_sec;
	uint64_t milli_tokens; /* thousandths of an event */
	uint64_t last_ns;
	bool started;
};

/* Whether one more event may happen at now_ns (time only moves forward;
 * an earlier now_ns is taken as no time passed). */
bool ratelimit_take(struct ratelimit *r, uint64_t now_ns);

#endif
