/* What both directions of migration share: polling, names, identity. */
#include "migrate/mig_channel.h"
#include "migrate/migrate.h"

#include "drivers/net/nic.h"
#include "hv/core/mainloop.h"
#include "hv/core/settings.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/x86/percpu.h"
#include "migrate/disk_xfer.h"
#include "migrate/mig_internal.h"
#include "migrate/seed.h"

static bool migrate_poll(void)
{
	bool busy = migrate_send_poll();

	busy |= disk_send_poll();
	busy |= disk_receive_poll();
	return migrate_recv_poll() || busy;
}

static struct poller migrate_poller = { .name = "migrate", .poll = migrate_poll,
					.stage = POLL_SERVICES };

static struct poller seed_poller = { .name = "seed-hash", .poll = seed_hash_ahead,
				     .stage = POLL_SERVICES };

/* Seeds belong to the main loop: another CPU's allocation just fails. */
static size_t reclaim_seeds(size_t pages)
{
	return on_main_cpu() ? seed_reclaim(pages) : 0;
}

void migrate_init(void)
{
	mainloop_register(&migrate_poller);
	mig_fragment_expiry_init();
	mainloop_register(&seed_poller);
	mm_set_reclaimer(reclaim_seeds);
	mig_channel_check_settings();
}

const char *migrate_phase_name(enum mig_phase p)
{
	static const char *const names[] = {
		[MIG_IDLE] = "idle", [MIG_CONNECTING] = "connecting", [MIG_PRECOPY] = "precopy",
		[MIG_STOP_COPY] = "stop-and-copy", [MIG_AWAIT_READY] = "awaiting-ready",
		[MIG_COMMIT] = "committing", [MIG_RECEIVING] = "receiving",
		[MIG_AWAIT_GO] = "awaiting-go", [MIG_DONE] = "done", [MIG_FAILED] = "failed",
		[MIG_OUTCOME_UNKNOWN] = "outcome-unknown",
	};

	return names[p];
}

void mig_instance_name(char *out, size_t size)
{
	str_copy(out, setting("name"), size);
}

uint64_t mig_instance_id(void)
{
	/* FNV-1a over the name and the first NIC's MAC. */
	char name[32];
	uint64_t h = 0xcbf29ce484222325ull;
	struct nic *nic = nic_at(0);

	mig_instance_name(name, sizeof(name));
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (int i = 0; nic && i < 6; i++)
		h = (h ^ nic->mac[i]) * 0x100000001b3ull;
	return h;
}
