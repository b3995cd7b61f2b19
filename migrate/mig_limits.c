/* The settings behind mig_watchdog's limits (kept apart so the watchdog's
 * logic builds and is tested on the host without the settings table). */
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "migrate/mig_watchdog.h"

#define RATE_WINDOW_NS (20 * NS_PER_SEC)

CONFIG_KEY(key_phase_timeout, "migrate_phase_timeout", "30",
	   "seconds an incoming migration or disk transfer may take to start, or to be "
	   "told GO after its last record");
CONFIG_KEY(key_min_rate, "migrate_min_rate", "4096",
	   "bytes a second an incoming transfer must bring over each 20 s; 0: only "
	   "20 s of silence ends it");

/* Read again at most once a second: receivers ask on every poll, and two
 * lookups by name there were 4 % of a migration destination's CPU. */
#define REREAD_NS NS_PER_SEC

void mig_limits_current(struct mig_limits *l)
{
	static struct mig_limits cached;
	static uint64_t read_at;
	uint64_t now = time_ns();

	if (!read_at || now - read_at >= REREAD_NS) {
		uint64_t phase_s = 30, rate = 4096;
		setting_u64("migrate_phase_timeout", &phase_s);
		setting_u64("migrate_min_rate", &rate);
		cached = (struct mig_limits){ .phase_ns = phase_s * NS_PER_SEC,
					      .window_ns = RATE_WINDOW_NS, .min_rate = rate };
		read_at = now;
	}
	*l = cached;
}
