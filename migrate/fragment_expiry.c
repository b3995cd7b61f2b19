/* Fragments nobody resumes are dropped after a while (setting
 * fragment_expire): a source that died for good must not hold the
 * destination's space forever, yet a short outage must not cost the
 * transfer. Progress times are the datastore's own (firmware clock). */
#include "boot/firmware.h"
#include "hv/core/log.h"
#include "hv/core/mainloop.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/store/datastore.h"
#include "migrate/mig_internal.h"

CONFIG_KEY(key_fragment_expire, "fragment_expire", "604800",
	   "seconds without progress after which an incomplete incoming disk is dropped; 0: never");

#define CHECK_EVERY_NS (5 * NS_PER_SEC)

static bool expire_poll(void)
{
	static uint64_t next_ns;
	uint64_t now_ns = time_ns(), expire = 0;
	struct store *s = datastore();

	if (now_ns < next_ns || !s)
		return false;
	next_ns = now_ns + CHECK_EVERY_NS;
	if (!setting_u64("fragment_expire", &expire) || !expire)
		return false;
	uint64_t now = fw_time_unix();
	for (unsigned i = store_fragment_count(s); i-- > 0;) {
		struct store_fragment_info f;
		char why[160];
		if (store_fragment_info_at(s, i, &f) || f.open || !now)
			continue;
		uint64_t last = f.progress_s > f.created_s ? f.progress_s : f.created_s;
		if (now < last || now - last < expire)
			continue;
		if (store_fragment_drop(s, f.id, why, sizeof(why)))
			log_warn("disk %s: fragment %u expired but was not dropped: %s", f.name, f.id,
				 why);
		else
			log_info("disk %s: fragment %u dropped: no progress for %lu s "
				 "(fragment_expire=%lu)", f.name, f.id, (unsigned long)(now - last),
				 (unsigned long)expire);
	}
	return false;
}

static struct poller expiry_poller = { .name = "fragments", .poll = expire_poll,
				       .stage = POLL_SERVICES };

void mig_fragment_expiry_init(void)
{
	mainloop_register(&expiry_poller);
}
