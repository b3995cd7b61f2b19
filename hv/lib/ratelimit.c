/* A token bucket; see ratelimit.h. */
#include "hv/lib/ratelimit.h"

bool ratelimit_take(struct ratelimit *r, uint64_t now_ns)
{
	uint64_t cap = (uint64_t)r->burst * 1000;

	if (!r->started) {
		r->started = true;
		r->milli_tokens = cap;
		r->last_ns = now_ns;
	}
	if (now_ns > r->last_ns) {
		uint64_t elapsed_ms = (now_ns - r->last_ns) / 1000000;
		/* Whole milliseconds only: the rest counts towards the next call. */
		r->last_ns += elapsed_ms * 1000000;
		uint64_t add = elapsed_ms * r->per_sec;
		r->milli_tokens = add >= cap - r->milli_tokens ? cap : r->milli_tokens + add;
	}
	if (r->milli_tokens < 1000)
		return false;
	r->milli_tokens -= 1000;
	return true;
}
