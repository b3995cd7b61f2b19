/* Seeds: the memory a VM left behind when it migrated away, kept so that
 * its return sends signatures instead of pages (docs/migration-stream.md,
 * "Page signatures"). A seed is a cache: `migrate_seed_mib` bounds it, the
 * oldest goes first, and the page allocator takes seeds back when it runs
 * short (mm_set_reclaimer). Only the main loop touches seeds. */
#ifndef MIGRATE_SEED_H
#define MIGRATE_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/stream.h"

struct vm_kept_memory;
struct mig_seed;

/* The main loop's poller (migrate.c registers it): hashes seeds' pages
 * ahead of their use, 1 ms at a time; true while some are left. */
bool seed_hash_ahead(void);
/* The page allocator's reclaimer (migrate.c registers it, for the main
 * CPU only): drops the oldest seeds not in use until 'pages' host pages
 * went; returns how many did. None while the store itself allocates. */
size_t seed_reclaim(size_t pages);

/* Keeps what the departed VM vm_uid left (ownership of *kept passes here;
 * freed at once when seeds are off or it does not fit). */
void seed_keep(uint64_t vm_uid, const char *name, struct vm_kept_memory *kept);

/* The seed of VM vm_uid with mem_bytes of memory, or NULL; held (never
 * dropped or reclaimed) until seed_put. */
struct mig_seed *seed_get(uint64_t vm_uid, uint64_t mem_bytes);
/* Its pages that can stand for a signature (not poisoned). */
uint64_t seed_usable_pages(const struct mig_seed *s);
/* Copies the seed's page gfn to dst when its SHA-256 is sig: true, else
 * false (different, poisoned, unreadable, or outside). */
bool seed_fill(struct mig_seed *s, uint64_t gfn, const uint8_t sig[MIG_SIG_LEN], void *dst);
/* Done with it. consumed: the VM runs here again, so the seed goes. */
void seed_put(struct mig_seed *s, bool consumed);

/* For the console. */
struct seed_info {
	char name[32];
	uint64_t vm_uid, pages, hashed, usable, hits, age_ms;
	bool in_use;
};
/* The i-th seed, oldest first: false past the last. */
bool seed_describe(unsigned i, struct seed_info *out);
/* Drops the seeds of VM 'name' ("all": every seed not in use); returns
 * how many went. */
unsigned seed_drop(const char *name);
/* Pages all seeds hold. */
uint64_t seed_total_pages(void);

#endif
