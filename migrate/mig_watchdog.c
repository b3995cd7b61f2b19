#include "migrate/mig_watchdog.h"

#include "hv/core/time.h"
#include "hv/lib/format.h"

void mig_watchdog_phase(struct mig_watchdog *w, const char *phase, bool rated, uint64_t now,
			uint64_t bytes_in, uint64_t bytes_out)
{
	*w = (struct mig_watchdog){ .phase = phase, .rated = rated, .phase_start_ns = now,
				    .window_start_ns = now, .window_bytes_in = bytes_in,
				    .window_bytes_out = bytes_out };
}

static void restart_window(struct mig_watchdog *w, uint64_t now, uint64_t in, uint64_t out)
{
	w->window_start_ns = now;
	w->window_bytes_in = in;
	w->window_bytes_out = out;
}

int mig_watchdog_check(struct mig_watchdog *w, const struct mig_limits *l, uint64_t now,
		       uint64_t bytes_in, uint64_t bytes_out, char *why, size_t whylen)
{
	if (!w->rated) {
		if (now - w->phase_start_ns <= l->phase_ns)
			return 0;
		fmt_snprintf(why, whylen, "%s took longer than %lu s (migrate_phase_timeout)",
			     w->phase, (unsigned long)(l->phase_ns / NS_PER_SEC));
		return -1;
	}
	if (bytes_out != w->window_bytes_out) {
		restart_window(w, now, bytes_in, bytes_out);
		return 0;
	}
	if (now - w->window_start_ns < l->window_ns)
		return 0;
	uint64_t got = bytes_in - w->window_bytes_in;
	uint64_t secs = (now - w->window_start_ns) / NS_PER_SEC;
	if (!got) {
		fmt_snprintf(why, whylen, "nothing from the peer for %lu s during %s",
			     (unsigned long)secs, w->phase);
		return -1;
	}
	if (l->min_rate && got / (secs ? secs : 1) < l->min_rate) {
		fmt_snprintf(why, whylen, "the peer sent %lu bytes in %lu s during %s, below "
			     "migrate_min_rate=%lu", (unsigned long)got, (unsigned long)secs,
			     w->phase, (unsigned long)l->min_rate);
		return -1;
	}
	restart_window(w, now, bytes_in, bytes_out);
	return 0;
}
